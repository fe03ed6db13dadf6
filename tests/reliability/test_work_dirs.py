"""Work directories are never silently reused (mmcatkd.engine.work_dir and
tools/demo.py).

- a new ``tools/train.py`` run into a work dir holding another run's
  checkpoints stops (it deleted or overwrote them, and ``last_checkpoint``
  then named the new run), unless ``--force``;
- two runs cannot hold one work dir at once (both used to exit 0, one's
  checkpoints gone and their logs interleaved): a lock file with the
  owner's pid and host, removed on exit; a lock left by a killed run is
  taken over with a warning;
- ``tools/demo.py`` never replaces a teacher without its record, nor, with
  ``--quick``, a full run.
"""
import json
import os
import os.path as osp
import socket
import subprocess

import pytest

from mmcatkd.apis import demo as demo_api
from mmcatkd.cli import demo as demo_tool
from mmcatkd.engine.work_dir import (LOCK_NAME, WorkDirInUseError, WorkDirLock,
                                     claim_work_dir)
from mmcatkd.utils.atomic_file import leftover_temporaries
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import (CATKD, fingerprint,
                                       read_last_checkpoint, train_in_process)


def _error_line(capsys, tool: str) -> str:
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    (line, ) = [
        line for line in stderr.splitlines()
        if line.startswith(f'{tool}: error: ')
    ]
    return line


def _dead_pid() -> int:
    child = subprocess.Popen(['true'])
    child.wait()
    return child.pid


def _stale_lock(work_dir: str) -> dict:
    """The lock file a SIGKILLed run leaves: its record, nobody holding it."""
    owner = dict(
        pid=_dead_pid(),
        host=socket.gethostname(),
        started='2024-01-01 00:00:00')
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, LOCK_NAME), 'w') as f:
        json.dump(owner, f)
    return owner


# -- the lock ---------------------------------------------------------------


def test_lock_records_its_owner_and_is_removed_on_release(tmp_path):
    work_dir = str(tmp_path / 'run')
    lock = WorkDirLock(work_dir)
    lock.acquire()
    with open(osp.join(work_dir, LOCK_NAME)) as f:
        owner = json.load(f)
    assert (owner['pid'], owner['host']) == (os.getpid(), socket.gethostname())
    lock.release()
    assert os.listdir(work_dir) == []


def test_a_held_lock_refuses_a_second_run(tmp_path):
    """A second claim (another open file, as another process's) is refused
    naming the holder; the holder's lock is untouched."""
    work_dir = str(tmp_path / 'run')
    first = WorkDirLock(work_dir)
    first.acquire()
    try:
        with pytest.raises(WorkDirInUseError) as info:
            WorkDirLock(work_dir).acquire()
        assert (f'{work_dir} is in use by another training run (pid '
                f'{os.getpid()} on {socket.gethostname()}' in str(info.value))
        assert 'pick another --work-dir' in str(info.value)
        assert osp.isfile(osp.join(work_dir, LOCK_NAME))
    finally:
        first.release()


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, capsys):
    """The lock of a killed run (its pid is gone, nobody holds the file) is
    taken over, said on stderr, and the killed run's partial writes are
    removed; the checkpoints stay."""
    work_dir = str(tmp_path / 'run')
    owner = _stale_lock(work_dir)
    partial = osp.join(work_dir, 'epoch_2.pth.0123abcd.tmp')
    with open(partial, 'wb') as f:
        f.write(b'half a checkpoint')
    with open(osp.join(work_dir, 'epoch_1.pth'), 'wb') as f:
        f.write(b'a checkpoint')
    lock = WorkDirLock(work_dir)
    lock.acquire()
    try:
        assert (f'was locked by a run that ended without unlocking it (pid '
                f'{owner["pid"]}' in capsys.readouterr().err)
        with open(osp.join(work_dir, LOCK_NAME)) as f:
            assert json.load(f)['pid'] == os.getpid()
        assert leftover_temporaries(work_dir) == []
        assert sorted(os.listdir(work_dir)) == ['epoch_1.pth', LOCK_NAME]
    finally:
        lock.release()


def test_only_rank_0_takes_the_lock(tmp_path):
    """Other processes of one run check for checkpoints but never lock (the
    run's rank 0 holds the lock)."""
    work_dir = str(tmp_path / 'run')
    with claim_work_dir(work_dir, new_run=True, rank=0):
        with claim_work_dir(work_dir, new_run=True, rank=1):
            assert os.listdir(work_dir) == [LOCK_NAME]
    assert os.listdir(work_dir) == []


# -- tools/train.py ---------------------------------------------------------


def test_new_run_over_another_runs_checkpoints_stops(catkd_run, image_folder,
                                                     capsys):  # noqa: F811
    """Forgetting --resume: one sentence naming --resume, another
    --work-dir and --force; the checkpoints and last_checkpoint unchanged,
    no lock left."""
    before = fingerprint(catkd_run)
    with pytest.raises(SystemExit):
        train_in_process(CATKD, catkd_run, image_folder)
    line = _error_line(capsys, 'train.py')
    assert (f'{catkd_run} holds the checkpoints of an earlier run '
            '(epoch_1.pth, last_checkpoint)' in line)
    assert ('continue that run with --resume, pick another --work-dir, or '
            'pass --force' in line)
    assert fingerprint(catkd_run) == before
    assert not osp.exists(osp.join(catkd_run, LOCK_NAME))


def test_second_run_in_a_work_dir_in_use_stops(tmp_path, image_folder,
                                               capsys):  # noqa: F811
    """Two runs in one work dir at once: the second stops with one sentence
    naming the first's pid, before writing anything."""
    work_dir = str(tmp_path / 'run')
    running = WorkDirLock(work_dir)
    running.acquire()
    try:
        with pytest.raises(SystemExit):
            train_in_process(CATKD, work_dir, image_folder)
        line = _error_line(capsys, 'train.py')
        assert (f'{work_dir} is in use by another training run (pid '
                f'{os.getpid()}' in line)
        assert os.listdir(work_dir) == [LOCK_NAME]
    finally:
        running.release()


@pytest.mark.slow
def test_force_starts_a_new_run_over_the_checkpoints(catkd_run, image_folder,
                                                     capsys):  # noqa: F811
    """--force is the user saying so: the new run trains there (its
    checkpoint replaces epoch_1.pth) and unlocks the work dir."""
    before = fingerprint(catkd_run)
    train_in_process(
        CATKD, catkd_run, image_folder, 'train_cfg.max_epochs=1', force=True)
    after = fingerprint(catkd_run)
    assert after['epoch_1.pth'] != before['epoch_1.pth']
    assert read_last_checkpoint(catkd_run) == osp.join(catkd_run,
                                                       'epoch_1.pth')
    assert not osp.exists(osp.join(catkd_run, LOCK_NAME))


@pytest.mark.slow
def test_resume_after_a_kill_takes_over_the_stale_lock(catkd_run, image_folder,
                                                       capsys):  # noqa: F811
    """A killed run's lock does not block its --resume: taken over with a
    warning, the run continues to epoch 2, the lock is gone at the end."""
    owner = _stale_lock(catkd_run)
    train_in_process(
        CATKD,
        catkd_run,
        image_folder,
        'train_cfg.max_epochs=2',
        resume='auto')
    assert f'(pid {owner["pid"]} on' in capsys.readouterr().err
    assert read_last_checkpoint(catkd_run) == osp.join(catkd_run,
                                                       'epoch_2.pth')
    assert not osp.exists(osp.join(catkd_run, LOCK_NAME))


# -- tools/demo.py ----------------------------------------------------------


def _demo(*argv):
    demo_tool.main(list(argv))


def test_demo_keeps_a_teacher_without_its_record(tmp_path, capsys):
    """``--teacher-dir DIR`` with a teacher.pth but no teacher.json: refused
    naming --retrain-teacher (it was retrained and replaced, 92.65 % by
    7.50 %)."""
    teacher_dir = tmp_path / 'teachers'
    teacher_dir.mkdir()
    (teacher_dir / 'teacher.pth').write_bytes(b'a 92.65 % teacher')
    with pytest.raises(SystemExit):
        _demo('--quick', '--teacher-dir', str(teacher_dir), '--work-dir',
              str(tmp_path / 'demo'), '--stages', 'baseline')
    line = _error_line(capsys, 'demo.py')
    assert f'{teacher_dir}/teacher.pth has no teacher.json record' in line
    assert '--retrain-teacher' in line and '--teacher-dir' in line
    assert os.listdir(teacher_dir) == ['teacher.pth']
    assert (teacher_dir / 'teacher.pth').read_bytes() == b'a 92.65 % teacher'


def _full_teacher(demo, work_dir: str) -> str:
    """A work dir's teacher/ as a full (not --quick) demo run leaves it."""
    teacher_dir = osp.join(work_dir, 'teacher')
    os.makedirs(teacher_dir)
    cfg = demo.load_stage_config(demo.STAGES[0], work_dir, False,
                                 osp.join(teacher_dir, demo.TEACHER_CKPT))
    with open(osp.join(teacher_dir, demo.TEACHER_CKPT), 'wb') as f:
        f.write(b'the full teacher')
    with open(osp.join(teacher_dir, demo.TEACHER_RECORD), 'w') as f:
        json.dump(
            dict(
                settings=demo.teacher_settings(cfg),
                top1=92.65,
                train_seconds=100.0,
                quick=False), f)
    return teacher_dir


def _contents(folder: str) -> dict:
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            with open(osp.join(root, name), 'rb') as f:
                found[osp.relpath(osp.join(root, name), folder)] = f.read()
    return found


def test_demo_quick_keeps_a_full_run(tmp_path, capsys):
    """``--quick`` into the work dir of a full demo run (make demo, then a
    quick check): refused, every file as it was."""
    demo = demo_api
    work_dir = str(tmp_path / 'demo')
    _full_teacher(demo, work_dir)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(setting=dict(quick=False), stages=[]), f)
    before = _contents(work_dir)
    with pytest.raises(SystemExit):
        _demo('--quick', '--work-dir', work_dir)
    line = _error_line(capsys, 'demo.py')
    assert f'{work_dir} holds a full demo run' in line
    assert 'give --quick a --work-dir of its own' in line
    assert _contents(work_dir) == before


def test_demo_quick_keeps_a_full_teacher(tmp_path, capsys):
    """A full run stopped before its results (only its teacher saved):
    --quick, whose teacher settings differ, does not replace it."""
    demo = demo_api
    work_dir = str(tmp_path / 'demo')
    teacher_dir = _full_teacher(demo, work_dir)
    before = _contents(work_dir)
    with pytest.raises(SystemExit):
        _demo('--quick', '--work-dir', work_dir, '--stages', 'baseline')
    line = _error_line(capsys, 'demo.py')
    assert (f'{teacher_dir}/teacher.pth is a full teacher (top-1 92.65 %) '
            'trained with other settings' in line)
    assert '--retrain-teacher' in line
    assert _contents(work_dir) == before
