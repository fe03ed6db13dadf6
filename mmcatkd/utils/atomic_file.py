"""Files that are either their old or their new content, never half-written.

A checkpoint written in place (MMEngine's ``LocalBackend.put`` opens the
final name with ``'wb'``) is truncated if the process is killed mid-write,
and is then the newest file in the work directory. Here the bytes go to a
temporary file next to the target, are flushed to disk (``fsync``) and only
then renamed over the target with ``os.replace``, which is atomic on POSIX
and Windows within one file system. The directory is synced too, so that the
rename itself survives a power loss (POSIX only: Windows cannot open
directories). A write that fails (disk full, a serialisation error) removes
its temporary file, so the space is given back; only a killed process
leaves one behind (:func:`leftover_temporaries` finds them).

The temporary file gets a name of its own, ``TARGET.<8 hex digits>.tmp``,
created exclusively (as :func:`tempfile.mkstemp` does, but with the usual
permissions): a fixed ``TARGET.tmp`` would be truncated and renamed away
when it is an existing file, e.g. the input of the tool writing TARGET, or
the temporary of another writer of the same target.

Every file the project writes goes through :func:`atomic_open` (or its
shorthands): checkpoints, exported students, converted teachers, results
files, figures.
"""
import io
import json
import os
import os.path as osp
import re
import secrets
from contextlib import contextmanager
from typing import IO, Iterator, List, Optional, Tuple, Union

import torch
from mmengine.fileio import LocalBackend, register_backend

TEMP_SUFFIX = '.tmp'
# TARGET.<8 hex digits>.tmp: the name of a temporary of TARGET
_TEMPORARY = re.compile(r'^(?P<target>.+)\.[0-9a-f]{8}' +
                        re.escape(TEMP_SUFFIX) + '$')


def _sync_directory(path: str) -> None:
    if os.name != 'posix':
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_temporary(path: str, mode: str) -> Tuple[str, IO]:
    """A new file ``path.<8 hex digits>.tmp`` opened for writing; never an
    existing file (exclusive creation, another name on a clash)."""
    encoding = {} if 'b' in mode else dict(encoding='utf-8')
    while True:
        temp_path = f'{path}.{secrets.token_hex(4)}{TEMP_SUFFIX}'
        try:
            return temp_path, open(temp_path, mode.replace('w', 'x'),
                                   **encoding)
        except FileExistsError:
            continue


def temporary_target(name: str) -> Optional[str]:
    """The target whose temporary file ``name`` is, or None."""
    match = _TEMPORARY.match(name)
    return match.group('target') if match else None


def leftover_temporaries(directory: str) -> List[str]:
    """The temporary files of :func:`atomic_open` in ``directory`` (left by
    killed writers, or in use by running ones), sorted."""
    if not osp.isdir(directory):
        return []
    return sorted(
        osp.join(directory, name) for name in os.listdir(directory)
        if temporary_target(name) is not None
        and osp.isfile(osp.join(directory, name)))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


@contextmanager
def atomic_open(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open ``path`` for writing; it gets the content only when the block
    ends without an exception.

    Args:
        path (str): the target; its directory is created if missing.
        mode (str): ``'wb'`` (bytes) or ``'w'`` (UTF-8 text).

    Raises:
        IsADirectoryError: ``path`` is a directory.
        OSError: the write failed (e.g. disk full); the temporary file is
            removed and the target is as it was.
    """
    if mode not in ('wb', 'w'):
        # a bug, not bad input: the callers are mmcatkd's own code
        raise ValueError(f'atomic_open writes only, mode "wb" or "w", got '
                         f'{mode!r}')
    path = os.fspath(path)
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{path} is a directory: give a file name to write to.')
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temp_path, temp_file = _create_temporary(path, mode)
    try:
        with temp_file as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except Exception:
        # Not BaseException: a kill (or a test's stand-in for one) leaves
        # the temporary, as a real SIGKILL would.
        _remove_quietly(temp_path)
        raise
    _sync_directory(directory)


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    with atomic_open(path) as f:
        f.write(data)


def atomic_torch_save(obj, path: str) -> None:
    """``torch.save(obj, path)``, atomically."""
    with atomic_open(path) as f:
        torch.save(obj, f)


def atomic_json_dump(obj, path: str, **kwargs) -> None:
    """``json.dump(obj, open(path, 'w'), **kwargs)``, atomically."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, **kwargs)


def atomic_savefig(figure, path: str, **kwargs) -> None:
    """``figure.savefig(path, **kwargs)``, atomically (the format follows
    the file's extension, as matplotlib's own ``savefig`` does)."""
    buffer = io.BytesIO()
    kwargs.setdefault('format', osp.splitext(path)[1][1:] or None)
    figure.savefig(buffer, **kwargs)
    atomic_write(buffer.getvalue(), path)


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
