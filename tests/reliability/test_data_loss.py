"""No path loses a checkpoint.

- ``--resume`` in a work directory without ``last_checkpoint`` continues
  from the newest checkpoint and leaves it as it was (it used to train from
  scratch over it); with nothing to resume it stops;
- ``tools/export_student.py`` refuses to write over its input or into a
  directory, and a write killed over an existing output leaves it intact;
- a disk that fills up during a save: the partial file is removed and the
  error names the checkpoint that is intact.
"""
import errno
import os
import os.path as osp

import pytest

from mmcatkd.cli import export_student as export_student_tool
from mmcatkd.utils.atomic_file import atomic_write, leftover_temporaries
from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.fault_hooks import (SimulatedKill, dying_open,
                                           full_disk_open)
from tests.reliability.helpers import (CATKD, fingerprint,
                                       read_last_checkpoint, train_in_process)


def _error_line(capsys) -> str:
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    return stderr.strip().splitlines()[-2]


@pytest.mark.slow
def test_resume_without_last_checkpoint_continues_from_the_newest(
        catkd_run, image_folder, capsys):  # noqa: F811
    """Checkpoints copied without last_checkpoint: --resume continues from
    epoch_1.pth (says so), whose bytes are unchanged, and writes epoch 2."""
    os.remove(osp.join(catkd_run, 'last_checkpoint'))
    before = fingerprint(catkd_run)
    train_in_process(
        CATKD,
        catkd_run,
        image_folder,
        'train_cfg.max_epochs=2',
        resume='auto')
    newest = osp.join(catkd_run, 'epoch_1.pth')
    assert (f'resuming from its newest checkpoint, {newest}'
            in capsys.readouterr().err)
    assert fingerprint(catkd_run)['epoch_1.pth'] == before['epoch_1.pth']
    assert read_last_checkpoint(catkd_run) == osp.join(catkd_run,
                                                       'epoch_2.pth')
    resumed = safe_torch_load(osp.join(catkd_run, 'epoch_2.pth'))['meta']
    first = safe_torch_load(newest)['meta']
    assert (resumed['epoch'], resumed['iter']) == (2, 2 * first['iter'])


def test_resume_with_nothing_to_resume_stops(image_folder, tmp_path,
                                             capsys):  # noqa: F811
    """--resume in a work dir with no checkpoint: one sentence, no run
    (it used to train from scratch and exit 0)."""
    work_dir = str(tmp_path / 'empty_work_dir')
    with pytest.raises(SystemExit):
        train_in_process(CATKD, work_dir, image_folder, resume='auto')
    line = _error_line(capsys)
    assert f'--resume found nothing to resume in {work_dir}' in line
    assert 'leave out --resume to start a new run' in line
    assert not osp.exists(work_dir)


def test_resume_among_epoch_and_iter_checkpoints_asks_for_the_path(
        image_folder, tmp_path, capsys):  # noqa: F811
    """Both epoch_*.pth and iter_*.pth, no last_checkpoint: which is newer
    cannot be told from the names; nothing is touched."""
    work_dir = tmp_path / 'mixed'
    work_dir.mkdir()
    for name in ('epoch_3.pth', 'epoch_12.pth', 'iter_40.pth'):
        (work_dir / name).write_bytes(name.encode())
    before = fingerprint(str(work_dir))
    with pytest.raises(SystemExit):
        train_in_process(CATKD, str(work_dir), image_folder, resume='auto')
    line = _error_line(capsys)
    assert 'epoch_12.pth, iter_40.pth' in line and '--resume PATH' in line
    assert fingerprint(str(work_dir)) == before


def test_export_student_refuses_to_overwrite_its_input(catkd_run, tmp_path,
                                                       capsys):
    """Output = input (also through a symbolic link): refused, the
    distillation checkpoint byte for byte as it was."""
    checkpoint = osp.join(catkd_run, 'epoch_1.pth')
    link = str(tmp_path / 'link.pth')
    os.symlink(checkpoint, link)
    before = fingerprint(catkd_run)
    for out in (checkpoint, link):
        with pytest.raises(SystemExit):
            export_student_tool.main([checkpoint, out])
        line = _error_line(capsys)
        assert f'the output {out} is the input checkpoint' in line
    assert fingerprint(catkd_run) == before


def test_export_student_into_a_directory(catkd_run, tmp_path, capsys):
    out = str(tmp_path)
    with pytest.raises(SystemExit):
        export_student_tool.main([osp.join(catkd_run, 'epoch_1.pth'), out])
    assert (f'the output {out} is a directory: give a file name'
            in _error_line(capsys))


def test_export_student_killed_over_an_existing_output(catkd_run, tmp_path,
                                                       monkeypatch):
    """Killed halfway through writing over an earlier export (replaced
    with --force): the earlier file is intact (it was left as a 0-byte
    file)."""
    out = str(tmp_path / 'student.pth')
    checkpoint = osp.join(catkd_run, 'epoch_1.pth')
    export_student_tool.main([checkpoint, out])
    before = open(out, 'rb').read()
    monkeypatch.setattr('builtins.open',
                        dying_open('student.pth', sigkill=False))
    with pytest.raises(SimulatedKill):
        export_student_tool.main([checkpoint, out, '--force'])
    monkeypatch.undo()
    assert open(out, 'rb').read() == before


def test_failed_atomic_write_removes_its_temporary(tmp_path, monkeypatch):
    """Disk full halfway through: the old content stays, the partial
    temporary file (which holds the space) is gone."""
    target = str(tmp_path / 'epoch_1.pth')
    atomic_write(b'old', target)
    monkeypatch.setattr('builtins.open', full_disk_open('epoch_1.pth'))
    with pytest.raises(OSError) as info:
        atomic_write(b'new content', target)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert open(target, 'rb').read() == b'old'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


@pytest.mark.slow
def test_disk_full_while_saving_names_the_intact_checkpoint(
        catkd_run, image_folder, monkeypatch, capsys):  # noqa: F811
    """Disk full while writing epoch_2.pth: one sentence naming the
    checkpoint that is intact, no partial file left, epoch_1.pth and
    last_checkpoint unchanged."""
    before = fingerprint(catkd_run)
    monkeypatch.setattr('builtins.open', full_disk_open('epoch_2.pth'))
    with pytest.raises(SystemExit):
        train_in_process(
            CATKD,
            catkd_run,
            image_folder,
            'train_cfg.max_epochs=2',
            resume='auto')
    monkeypatch.undo()
    line = _error_line(capsys)
    intact = osp.join(catkd_run, 'epoch_1.pth')
    assert (f'could not write the checkpoint '
            f'{osp.join(catkd_run, "epoch_2.pth")} (No space left on device)'
            in line)
    assert f'{intact} (named by last_checkpoint) is intact' in line
    assert fingerprint(catkd_run) == before
    assert not leftover_temporaries(catkd_run)
