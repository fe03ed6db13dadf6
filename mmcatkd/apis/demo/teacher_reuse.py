"""A teacher saved by an earlier demo run: reused when its record says it
was trained with this run's settings, never replaced unasked.

The record (``teacher.json`` beside ``teacher.pth``) holds the settings,
top-1 and training time; a ``--quick`` teacher may be replaced, a full one
or one without a record only with ``--retrain-teacher``.
"""
import json
import os.path as osp
from typing import Optional

from mmengine.config import Config

from ...utils.errors import ConfigError
from ...utils.output_paths import OutputRefusedError

TEACHER_CKPT = 'teacher.pth'  # CheckpointHook filename_tmpl of stage 1
TEACHER_RECORD = 'teacher.json'


def teacher_settings(cfg: Config) -> dict:
    """What must match for a saved teacher to be reused (JSON-normalised).

    Model, data, schedule and seed: a teacher from a --quick run or from an
    edited config is trained again instead of standing in for this one.
    """
    keys = ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper',
            'param_scheduler', 'randomness')
    settings = {key: cfg.to_dict()[key] for key in keys}
    return json.loads(json.dumps(settings, sort_keys=True))


def teacher_record(work_dir: str) -> Optional[dict]:
    """The record (teacher.json) of the teacher saved in ``work_dir``, or
    None when there is no record or no teacher."""
    record_path = osp.join(work_dir, TEACHER_RECORD)
    if not (osp.isfile(record_path)
            and osp.isfile(osp.join(work_dir, TEACHER_CKPT))):
        return None
    with open(record_path) as f:
        try:
            return json.load(f)
        except ValueError as err:
            raise ConfigError(
                f'{record_path} (the record of an earlier run\'s teacher) is '
                f'corrupt ({err}): run the demo again with --retrain-teacher.'
            ) from err


def reusable_teacher(work_dir: str, settings: dict) -> Optional[dict]:
    """The record of a saved teacher trained with ``settings``, if any."""
    record = teacher_record(work_dir)
    return record if record and record.get('settings') == settings else None


def check_teacher_replaceable(work_dir: str) -> None:
    """Refuse to train a teacher over one the demo may not replace
    unasked: a teacher.pth without its record (not one the demo trained), or
    a full (not --quick) teacher trained with other settings.

    Raises:
        OutputRefusedError: naming --retrain-teacher and --teacher-dir.
    """
    checkpoint = osp.join(work_dir, TEACHER_CKPT)
    if not osp.lexists(checkpoint):
        return
    record = teacher_record(work_dir)
    if record is None:
        raise OutputRefusedError(
            f'{checkpoint} has no {TEACHER_RECORD} record (the demo did not '
            'train it, or its run was cut short) and is kept: give another '
            '--teacher-dir, or pass --retrain-teacher to train a new teacher '
            'over it.')
    if not record.get('quick', False):
        raise OutputRefusedError(
            f'{checkpoint} is a full teacher (top-1 {record.get("top1")} %) '
            'trained with other settings (model, data, schedule or seed) '
            'than this run\'s: give this run another --work-dir (or '
            '--teacher-dir), or pass --retrain-teacher to replace it.')


def check_quick_work_dir(work_dir: str) -> None:
    """Refuse --quick in a work directory holding a full demo run."""
    path = osp.join(work_dir, 'results.json')
    if not osp.isfile(path):
        return
    try:
        with open(path) as f:
            quick = json.load(f)['setting']['quick']
    except (ValueError, KeyError, TypeError):
        quick = False  # not a demo's results: keep them too
    if not quick:
        raise OutputRefusedError(
            f'{work_dir} holds a full demo run ({path}): --quick would '
            'replace its teacher and results with ones that mean nothing; '
            'give --quick a --work-dir of its own, e.g. '
            'work_dirs/demo_quick.')
