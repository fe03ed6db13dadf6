"""Files that are either their old or their new content, never half-written.

A checkpoint written in place (MMEngine's ``LocalBackend.put`` opens the
final name with ``'wb'``) is truncated if the process is killed mid-write,
and is then the newest file in the work directory. Here the bytes go to a
temporary file next to the target, are flushed to disk (``fsync``) and only
then renamed over the target with ``os.replace``, which is atomic on POSIX
and Windows within one file system. The directory is synced too, so that the
rename itself survives a power loss (POSIX only: Windows cannot open
directories).
"""
import os
import os.path as osp
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

# One fixed name per target: a write killed midway leaves at most this file
# behind, and the next write of the same target truncates and reuses it.
TEMP_SUFFIX = '.tmp'


def _sync_directory(path: str) -> None:
    if os.name != 'posix':
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that readers see old or new, never half.

    Args:
        data (bytes | str): the content; ``str`` is written as UTF-8.
        path (str): the target; its directory is created if missing.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = os.fspath(path)
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temp_path = path + TEMP_SUFFIX
    with open(temp_path, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp_path, path)
    _sync_directory(directory)


@register_backend('local_atomic')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put`` and ``put_text``.

    Select it with ``backend_args=dict(backend='local_atomic')``;
    :class:`~mmcatkd.engine.hooks.CrashSafeCheckpointHook` does so for local
    work directories.
    """

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)
