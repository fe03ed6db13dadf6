"""Where a tool may write: never over what it reads or what it did not write.

Every tool in ``tools/`` that writes a file or a folder checks its outputs
here, against its inputs, before it does any work:

- an output that is one of the tool's inputs (the same path, or the same
  file through a symbolic link, ``..`` or a hard link) is refused, even
  with ``--force``: a converted, exported or probed checkpoint, predictions
  or a figure written over the checkpoint or image they were made from
  loses it;
- an output file that is a directory, or an output folder that is a file,
  is refused;
- an output file that already exists is replaced only with ``--force``
  (the tool cannot tell a file it wrote from someone else's);
- an output folder that holds files, but not the tool's own record
  (``marker``: a teacher-CAM cache's manifest), is refused.

``tests/reliability/test_output_rule.py`` runs every tool with an output
equal to an input. Training work directories have rules of their own
(:mod:`mmcatkd.engine.work_dir`).
"""
import os
import os.path as osp
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

from .errors import ConfigError

#: what a tool reads: ``{label: path or paths}``, e.g.
#: ``{'checkpoint': 'a.pth', 'image': ['x.png', 'y.png']}``; None is skipped
Inputs = Dict[str, Union[None, str, Sequence[str]]]


class OutputRefusedError(ConfigError):
    """An output path that would destroy an input or a file the tool did not
    write; the message says which and what to do."""


def same_file(path: str, other: str) -> bool:
    """Whether two paths name one file or folder (after symbolic links and
    ``..``, or as hard links of one file)."""
    if osp.realpath(path) == osp.realpath(other):
        return True
    try:
        return osp.samefile(path, other)
    except OSError:  # one of them does not exist
        return False


def _labelled(inputs: Optional[Inputs]) -> Iterable[Tuple[str, str]]:
    for label, paths in (inputs or {}).items():
        if paths is None:
            continue
        for path in [paths] if isinstance(paths,
                                          (str, os.PathLike)) else (paths):
            if path is not None:
                yield label, os.fspath(path)


def _refuse_inputs(path: str, inputs: Optional[Inputs], option: str,
                   kind: str) -> None:
    for label, input_path in _labelled(inputs):
        if same_file(path, input_path):
            named = '' if input_path == path else f' ({input_path})'
            raise OutputRefusedError(
                f'{option} {path} is the input {label}{named}: writing '
                f'there would destroy it; give another {kind}.')


def check_output_file(path: Optional[str],
                      inputs: Optional[Inputs] = None,
                      option: str = '--out',
                      force: bool = False) -> None:
    """Refuse an output file that is an input, a directory, or (without
    ``force``) an existing file.

    Args:
        path: the output file; None (not asked for) passes.
        inputs: what the tool reads, see :data:`Inputs`.
        option: how the message names the output (``'--out'``,
            ``'the output'``).
        force: the user's ``--force``: replace an existing file (never an
            input).

    Raises:
        OutputRefusedError: with one sentence naming the fix.
    """
    if not path:
        return
    path = os.fspath(path)
    _refuse_inputs(path, inputs, option, 'file name')
    if osp.isdir(path):
        raise OutputRefusedError(
            f'{option} {path} is a directory: give a file name (in it, or '
            'elsewhere).')
    if osp.lexists(path) and not force:
        raise OutputRefusedError(
            f'{option} {path} already exists: pass --force to replace it, '
            'or give another file name.')


def _holds_files(folder: str) -> bool:
    """Whether ``folder`` or a folder in it holds a file (empty folders do
    not count: ranks of one run may create them in any order)."""
    for _, _, files in os.walk(folder):
        if files:
            return True
    return False


def check_output_folder(path: str,
                        inputs: Optional[Inputs] = None,
                        option: str = '--work-dir',
                        marker: Optional[str] = None,
                        holds: str = '') -> None:
    """Refuse an output folder that is an input or a file, or that holds
    files without the tool's ``marker``.

    Args:
        path: the output folder (it need not exist).
        inputs: what the tool reads, see :data:`Inputs`.
        option: how the message names the folder.
        marker: a file the tool writes into every folder it fills (checked
            only when given); ``holds`` says what such a folder is, e.g.
            ``'a teacher-CAM cache'``.

    Raises:
        OutputRefusedError: with one sentence naming the fix.
    """
    path = os.fspath(path)
    _refuse_inputs(path, inputs, option, 'folder')
    if osp.exists(path) and not osp.isdir(path):
        raise OutputRefusedError(
            f'{option} {path} is a file, not a folder: give a folder (new, '
            'or one this tool wrote).')
    if (marker is not None and osp.isdir(path)
            and not osp.lexists(osp.join(path, marker))
            and _holds_files(path)):
        raise OutputRefusedError(
            f'{option} {path} holds files but no {marker}, so it is not '
            f'{holds}: give a new or empty folder (or delete its files).')
