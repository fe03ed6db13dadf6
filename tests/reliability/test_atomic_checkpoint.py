"""Crash-safe checkpoints, in this process: the atomic write itself
(a write that dies leaves the old content), and last_checkpoint being
replaced, never truncated."""
import os
import os.path as osp

import pytest

from mmcatkd.utils.atomic_file import (atomic_write, leftover_temporaries,
                                       temporary_target)
from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.fault_hooks import SimulatedKill, dying_open
from tests.reliability.helpers import (CATKD, fingerprint,
                                       read_last_checkpoint, train_in_process)


def test_atomic_write_replaces_the_content(tmp_path):
    """The target gets the new bytes; no temporary file remains."""
    target = str(tmp_path / 'epoch_1.pth')
    atomic_write(b'old', target)
    atomic_write(b'new', target)
    assert open(target, 'rb').read() == b'new'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_interrupted_atomic_write_leaves_the_old_content(
        tmp_path, monkeypatch):
    """Dying halfway through the write leaves the target as it was."""
    target = str(tmp_path / 'last_checkpoint')
    atomic_write('epoch_1.pth', target)
    monkeypatch.setattr('builtins.open',
                        dying_open('last_checkpoint', sigkill=False))
    with pytest.raises(SimulatedKill):
        atomic_write('epoch_2.pth', target)
    monkeypatch.undo()
    assert open(target).read() == 'epoch_1.pth'
    (temporary, ) = leftover_temporaries(str(tmp_path))  # half-written
    assert temporary_target(osp.basename(temporary)) == 'last_checkpoint'


def test_death_while_updating_last_checkpoint_keeps_a_resume_point(
        catkd_run, image_folder, monkeypatch):  # noqa: F811
    """Dying while last_checkpoint is rewritten after epoch 2 leaves it
    naming epoch_1.pth (MMEngine truncates it first: an empty
    last_checkpoint, from which --resume cannot start), and epoch_2.pth,
    written before, is complete."""
    before = fingerprint(catkd_run)
    monkeypatch.setattr('builtins.open',
                        dying_open('last_checkpoint', sigkill=False))
    with pytest.raises(SimulatedKill):
        train_in_process(
            CATKD,
            catkd_run,
            image_folder,
            'train_cfg.max_epochs=2',
            resume='auto')
    monkeypatch.undo()
    assert read_last_checkpoint(catkd_run) == osp.join(catkd_run,
                                                       'epoch_1.pth')
    assert fingerprint(catkd_run)['epoch_1.pth'] == before['epoch_1.pth']
    assert safe_torch_load(osp.join(catkd_run,
                                    'epoch_2.pth'))['meta']['epoch'] == 2
