"""Exact resume: a run SIGKILLed while writing a checkpoint
keeps its previous checkpoint, and --resume then continues it exactly.

Three child processes of tools/train.py on catkd_tiny_random.py (random
crops and flips from numpy, drop-path from torch):

- uninterrupted: 3 epochs;
- killed: the same run, SIGKILLed halfway through writing epoch_2.pth, with
  ``max_keep_ckpts=1`` (MMEngine deletes epoch_1.pth before writing
  epoch_2.pth);
- resumed: ``--resume`` in the killed run's work dir, to epoch 3.
"""
import os
import os.path as osp
import signal

import pytest

from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import (CATKD_RANDOM, config_with_hooks,
                                       max_weight_difference,
                                       read_last_checkpoint, run_tool,
                                       start_tool, train_args)

KEEP_ONE = 'default_hooks.checkpoint.max_keep_ckpts=1'
EPOCHS = 'train_cfg.max_epochs=3'


@pytest.fixture(scope='module')
def runs(tmp_path_factory, image_folder):  # noqa: F811
    root = tmp_path_factory.mktemp('kill_and_resume')
    uninterrupted, killed = str(root / 'uninterrupted'), str(root / 'killed')
    killing_config = config_with_hooks(
        str(root), CATKD_RANDOM,
        dict(type='KillWhileWritingHook', prefix='epoch_2.pth'))
    # The two independent runs share the two cores.
    reference = start_tool(
        'train', *train_args(CATKD_RANDOM, uninterrupted, image_folder,
                             EPOCHS))
    victim = start_tool(
        'train',
        *train_args(killing_config, killed, image_folder, EPOCHS, KEEP_ONE))
    victim_output, _ = victim.communicate(timeout=300)
    reference_output, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, reference_output[-3000:]
    after_kill = dict(
        returncode=victim.returncode,
        output=victim_output,
        files=sorted(os.listdir(killed)),
        last_checkpoint=read_last_checkpoint(killed))
    resumed = run_tool(
        'train',
        *train_args(
            CATKD_RANDOM,
            killed,
            image_folder,
            EPOCHS,
            KEEP_ONE,
            resume='auto'))
    return dict(
        uninterrupted=uninterrupted,
        killed=killed,
        after_kill=after_kill,
        resumed_returncode=resumed.returncode,
        resumed=resumed.stdout + resumed.stderr)


def test_kill_while_saving_keeps_the_previous_checkpoint(runs):
    """Killed halfway through writing epoch_2.pth: no epoch_2.pth exists (not
    even a truncated one), epoch_1.pth is complete although max_keep_ckpts=1
    retires it, and last_checkpoint still names it."""
    after_kill = runs['after_kill']
    assert after_kill['returncode'] == -signal.SIGKILL
    assert 'Saving checkpoint at 2 epochs' in after_kill['output']
    assert 'epoch_2.pth' not in after_kill['files']
    assert 'epoch_1.pth' in after_kill['files']
    assert after_kill['last_checkpoint'] == osp.join(runs['killed'],
                                                     'epoch_1.pth')
    # The file itself is gone now (retired after epoch_2 was saved by the
    # resumed run), so its completeness was shown by the resume loading it.
    assert 'resumed epoch: 1, iter: 6' in runs['resumed']


def test_resume_after_kill_equals_the_uninterrupted_run(runs):
    """--resume from epoch 1 reproduces the weights of the run that was
    never interrupted (random augmentation and drop-path included)."""
    assert runs['resumed_returncode'] == 0, runs['resumed'][-3000:]
    assert 'Epoch(train) [2][1/6]' in runs['resumed']
    difference = max_weight_difference(
        osp.join(runs['uninterrupted'], 'epoch_3.pth'),
        osp.join(runs['killed'], 'epoch_3.pth'))
    assert difference <= 1e-6


def test_resumed_run_keeps_its_window_and_leaves_no_temporary_file(runs):
    """After the resumed run, max_keep_ckpts=1 holds (epoch_3.pth only), the
    temporary file of the killed write is gone, and the last checkpoint
    stores the generator states of its one process."""
    files = sorted(
        name for name in os.listdir(runs['killed'])
        if name.endswith(('.pth', '.tmp')))
    assert files == ['epoch_3.pth']
    checkpoint = safe_torch_load(osp.join(runs['killed'], 'epoch_3.pth'))
    assert checkpoint['rng_states']['epoch'] == 3
    assert len(checkpoint['rng_states']['states']) == 1
