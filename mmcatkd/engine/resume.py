"""Which checkpoint ``tools/train.py --resume`` (no path) continues from.

MMEngine's auto-resume reads only ``last_checkpoint``: in a work directory
that holds ``epoch_*.pth`` / ``iter_*.pth`` but no ``last_checkpoint`` (the
checkpoints were copied to another machine) it trains from scratch and
overwrites them. Here the newest checkpoint is found from the file names
instead, and a work directory with no checkpoint at all is an error, not a
new run.
"""
import os
import os.path as osp
import re
from typing import Optional

from ..utils.errors import ConfigError, UserError

CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class NothingToResumeError(UserError, FileNotFoundError):
    """``--resume`` was given but no checkpoint can be found."""


def newest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from in ``work_dir``.

    Returns:
        None when ``last_checkpoint`` exists (MMEngine reads it), else the
        path of the ``epoch_N.pth`` or ``iter_N.pth`` with the largest N.

    Raises:
        NothingToResumeError: no ``last_checkpoint`` and no checkpoint.
        ValueError: both ``epoch_*.pth`` and ``iter_*.pth`` files, so the
            newest one cannot be told from the names.
    """
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    found = {}
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = CHECKPOINT_NAME.match(name)
            if match:
                found.setdefault(match.group(1), []).append(
                    (int(match.group(2)), name))
    if not found:
        raise NothingToResumeError(
            f'--resume found nothing to resume in {work_dir} (no '
            'last_checkpoint, no epoch_*.pth or iter_*.pth): give the '
            'checkpoint (--resume PATH) or its --work-dir, or leave out '
            '--resume to start a new run.')
    if len(found) > 1:
        newest = ', '.join(max(found[kind])[1] for kind in sorted(found))
        raise ConfigError(
            f'--resume cannot tell the newest checkpoint in {work_dir} '
            f'(no last_checkpoint, and both epoch and iter checkpoints: '
            f'{newest}): give the one to continue from with --resume PATH.')
    (checkpoints, ) = found.values()
    return osp.join(work_dir, max(checkpoints)[1])
