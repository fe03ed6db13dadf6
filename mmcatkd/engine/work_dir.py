"""One training run per work directory, never over another run's checkpoints.

MMEngine writes checkpoints, ``last_checkpoint`` and logs into ``work_dir``
whatever it already holds: a new run started there without ``--resume``
deleted (``max_keep_ckpts``) or overwrote (same names) the checkpoints of
the run before it, and ``last_checkpoint`` then named the new run; two runs
started there at once both ended well, one's checkpoints gone and their logs
interleaved. ``tools/train.py`` claims the work directory with
:func:`claim_work_dir` before it builds the Runner:

1. a new run (no resume) into a work directory holding checkpoints
   (``epoch_*.pth``, ``iter_*.pth``, ``best_*.pth``, ``last_checkpoint``)
   stops with one sentence, unless the user passes ``--force``;
2. the run holds a lock file, :data:`LOCK_NAME`, with its pid, host and start
   time, under an exclusive ``flock`` that the kernel releases when the
   process ends, however it ends. The file is removed when the run ends; a
   second run finds it locked and stops. A lock file nobody holds (its
   process was killed) is taken over with a warning, and the temporary
   files of the killed process's writes are removed.

In a run of several processes, every process makes check 1 (no process can
save a checkpoint before all have started) and rank 0 alone takes the lock.
Where ``fcntl`` is missing (Windows), the lock is an exclusively created
file, and one whose process is gone (same host) counts as free.
"""
import json
import os
import os.path as osp
import re
import socket
import sys
import time
from contextlib import contextmanager
from typing import Iterator, List, Optional

from ..utils.atomic_file import leftover_temporaries
from ..utils.output_paths import OutputRefusedError
from .resume import CHECKPOINT_NAME

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = 'train.lock'
_BEST_CHECKPOINT = re.compile(r'^best_.*\.pth$')
#: where each launcher tells a process its rank, before MMEngine sets RANK
RANK_VARIABLES = dict(
    pytorch='RANK', slurm='SLURM_PROCID', mpi='OMPI_COMM_WORLD_RANK')


class WorkDirInUseError(OutputRefusedError):
    """Another run holds the work directory's lock."""


def launcher_rank(launcher: str) -> int:
    """This process's rank under ``launcher`` (0 for ``'none'``)."""
    variable = RANK_VARIABLES.get(launcher)
    return int(os.environ.get(variable, 0)) if variable else 0


def checkpoints_in(work_dir: str) -> List[str]:
    """The checkpoint files (and ``last_checkpoint``) in ``work_dir``."""
    if not osp.isdir(work_dir):
        return []
    return sorted(
        name for name in os.listdir(work_dir) if CHECKPOINT_NAME.match(name)
        or _BEST_CHECKPOINT.match(name) or name == 'last_checkpoint')


def check_new_run(work_dir: str) -> None:
    """Refuse to start a new run in a work directory holding checkpoints.

    Raises:
        OutputRefusedError: naming ``--resume``, another ``--work-dir`` and
            ``--force``.
    """
    found = checkpoints_in(work_dir)
    if not found:
        return
    listed = ', '.join(
        found[:3]) + (f' and {len(found) - 3} more' if len(found) > 3 else '')
    raise OutputRefusedError(
        f'{work_dir} holds the checkpoints of an earlier run ({listed}): '
        'continue that run with --resume, pick another --work-dir, or pass '
        '--force to start a new run there (its checkpoints may then be '
        'overwritten or deleted).')


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _describe(owner: Optional[dict]) -> str:
    if not owner:
        return 'a process that left no record'
    return (f'pid {owner.get("pid")} on {owner.get("host")}, started '
            f'{owner.get("started")}')


class WorkDirLock:
    """The lock file of a work directory (see the module's docstring)."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd: Optional[int] = None

    def _record(self) -> bytes:
        return json.dumps(
            dict(
                pid=os.getpid(),
                host=socket.gethostname(),
                started=time.strftime('%Y-%m-%d %H:%M:%S'))).encode()

    @staticmethod
    def _read(fd: int) -> Optional[dict]:
        os.lseek(fd, 0, os.SEEK_SET)
        data = b''
        while True:
            block = os.read(fd, 4096)
            if not block:
                break
            data += block
        try:
            owner = json.loads(data.decode())
        except ValueError:
            return None
        return owner if isinstance(owner, dict) else None

    def _busy(self, owner: Optional[dict]) -> WorkDirInUseError:
        return WorkDirInUseError(
            f'{self.work_dir} is in use by another training run '
            f'({_describe(owner)}; lock file {self.path}): wait for it to '
            'end, or pick another --work-dir.')

    def _is_current(self, fd: int) -> bool:
        """Whether ``fd`` is still the file at :attr:`path` (a run ending
        removes it; a locker must not hold the removed one)."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        opened = os.fstat(fd)
        return (opened.st_ino, opened.st_dev) == (current.st_ino,
                                                  current.st_dev)

    def _open_locked(self) -> int:
        """A file descriptor of the lock file, exclusively locked by this
        process; its earlier content is still in it."""
        while True:
            if fcntl is None:
                try:
                    return os.open(self.path,
                                   os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    fd = os.open(self.path, os.O_RDWR)
                    owner = self._read(fd)
                    same_host = (owner or {}).get('host') == (
                        socket.gethostname())
                    if not (same_host
                            and not _process_alive(int(owner.get('pid', 0)))):
                        os.close(fd)
                        raise self._busy(owner)
                    return fd
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self._read(fd)
                os.close(fd)
                raise self._busy(owner) from None
            if self._is_current(fd):
                return fd
            os.close(fd)  # removed by the run that held it: open it anew

    def acquire(self) -> None:
        """Take the lock (creating the work directory if needed).

        Raises:
            WorkDirInUseError: another live run holds it.
        """
        os.makedirs(self.work_dir, exist_ok=True)
        fd = self._open_locked()
        try:
            owner = self._read(fd)
            if os.fstat(fd).st_size:
                print(
                    f'warning: {self.work_dir} was locked by a run that '
                    f'ended without unlocking it ({_describe(owner)}); '
                    'this run takes it over.',
                    file=sys.stderr)
                for path in leftover_temporaries(self.work_dir):
                    os.remove(path)  # partial writes of the ended run
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, self._record())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Remove the lock file, then unlock it."""
        if self._fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


@contextmanager
def claim_work_dir(work_dir: str,
                   new_run: bool,
                   force: bool = False,
                   rank: int = 0) -> Iterator[None]:
    """Hold ``work_dir`` for one training run (see the module's docstring).

    Args:
        work_dir: the run's work directory.
        new_run: the run starts from scratch (no resume): a work directory
            holding checkpoints is refused unless ``force``.
        force: the user's ``--force``.
        rank: this process's rank; rank 0 alone takes the lock.

    Raises:
        OutputRefusedError: checkpoints of another run, without ``force``.
        WorkDirInUseError: another run holds the work directory.
    """
    if rank != 0:
        if new_run and not force:
            check_new_run(work_dir)
        yield
        return
    lock = WorkDirLock(work_dir)
    lock.acquire()
    try:
        if new_run and not force:
            check_new_run(work_dir)
        yield
    finally:
        lock.release()
