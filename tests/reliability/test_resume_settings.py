"""A resume follows the config's optimizer and
scheduler settings (MMEngine silently kept the checkpoint's), and a resume
with nothing left to train says so."""
import glob
import os.path as osp
import re

import pytest

from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import CATKD, fingerprint, train_in_process

pytestmark = pytest.mark.slow


def _log(work_dir: str) -> str:
    """The text of the newest run's log in ``work_dir``."""
    return open(sorted(glob.glob(osp.join(work_dir, '*', '*.log')))[-1]).read()


def test_changed_learning_rate_and_settings_apply_on_resume(
        catkd_run, image_folder):  # noqa: F811
    """Epoch 1 ran at lr 0.05 (tiny_student.py); --resume with lr=0.005,
    weight decay 1e-3 and the milestone moved from 2 to 3: epoch 2 trains
    at 0.005, the checkpoint records the new settings (and the scheduler's
    end follows the new max_epochs, where MMEngine kept the old one), and
    each change is logged."""
    train_in_process(
        CATKD,
        catkd_run,
        image_folder,
        'train_cfg.max_epochs=2',
        'optim_wrapper.optimizer.lr=0.005',
        'optim_wrapper.optimizer.weight_decay=0.001',
        'param_scheduler.milestones=[3]',
        resume='auto')
    log = _log(catkd_run)
    assert ('resume: parameter group 0: learning rate 0.005 from the config '
            "instead of the checkpoint's 0.05" in log)
    assert ("weight_decay=0.001 from the config instead of the checkpoint's "
            '0.0005' in log)
    assert 'scheduler 0 (MultiStepLR): milestones=Counter({3: 1})' in log
    assert "end=2 from the config instead of the checkpoint's 1" in log
    lrs = set(re.findall(r'Epoch\(train\) \[2\]\[\d/6\]\s+lr: (\S+)', log))
    assert lrs == {'5.0000e-03'}
    checkpoint = safe_torch_load(osp.join(catkd_run, 'epoch_2.pth'))
    group = checkpoint['optimizer']['param_groups'][0]
    assert group['initial_lr'] == pytest.approx(0.005)
    assert group['weight_decay'] == pytest.approx(0.001)
    scheduler = checkpoint['param_schedulers'][0]
    assert (dict(scheduler['milestones']), scheduler['end']) == ({3: 1}, 2)


def test_unchanged_optimizer_resumes_as_saved(catkd_run, image_folder):
    """The same optimizer and scheduler settings: only the scheduler's end,
    which follows max_epochs (1 -> 2), changes; epoch 2 runs at 0.05."""
    train_in_process(
        CATKD,
        catkd_run,
        image_folder,
        'train_cfg.max_epochs=2',
        resume='auto')
    log = _log(catkd_run)
    assert re.findall(r'resume: .*', log) == [
        "resume: scheduler 0 (MultiStepLR): end=2 from the config instead of "
        "the checkpoint's 1."
    ]
    lrs = set(re.findall(r'Epoch\(train\) \[2\]\[\d/6\]\s+lr: (\S+)', log))
    assert lrs == {'5.0000e-02'}


def test_resume_with_nothing_left_to_train_says_so(catkd_run, image_folder):
    """A checkpoint at epoch 1 resumed with max_epochs=1: a warning says
    nothing is left to train and how to train further; nothing written."""
    before = fingerprint(catkd_run)
    train_in_process(
        CATKD,
        catkd_run,
        image_folder,
        'train_cfg.max_epochs=1',
        resume='auto')
    assert ('resume: the checkpoint is at epoch 1 and train_cfg.max_epochs=1:'
            ' nothing is left to train; raise it' in _log(catkd_run))
    assert fingerprint(catkd_run) == before


def test_iteration_based_resume_with_nothing_left_to_train_says_so(
        tmp_path, image_folder):  # noqa: F811
    """The same for IterBasedTrainLoop, which reports max_epochs=1 as well:
    the hook took the epoch branch (epoch 0 < 1) and said nothing."""
    config = tmp_path / 'catkd_iters.py'
    config.write_text(
        f'_base_ = [{CATKD!r}]\n'
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', "
        'max_iters=2, val_interval=2)\n'
        "param_scheduler = dict(_delete_=True, type='ConstantLR', "
        'factor=1.0, by_epoch=False)\n'
        'default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2))\n'
        'log_processor = dict(by_epoch=False)\n')
    work_dir = str(tmp_path / 'work')
    train_in_process(str(config), work_dir, image_folder)
    assert sorted(fingerprint(work_dir)) == ['iter_2.pth', 'last_checkpoint']
    before = fingerprint(work_dir)
    train_in_process(str(config), work_dir, image_folder, resume='auto')
    assert ('resume: the checkpoint is at iteration 2 and '
            'train_cfg.max_iters=2: nothing is left to train; raise it'
            in _log(work_dir))
    assert fingerprint(work_dir) == before
