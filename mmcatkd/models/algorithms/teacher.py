"""The teacher policy every mmcatkd distillation algorithm follows.

A teacher is built from a config (or given built) without drawing from the
global random number generator (:func:`build_teachers`), its checkpoint loaded
strictly through the safe loader, its in-place operations turned off (a
recorder must see outputs no later layer overwrites), its parameters frozen
and its modules kept in eval mode (or, as the multi-teacher study's authors
leave theirs, in train mode: :func:`set_teacher_mode`); it predicts the
student's classes.
"""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmrazor.registry import MODELS

from ...utils import checkpoint_state_dict, state_dict_differences
from ...utils.errors import ConfigError, ConfigTypeError
from ...utils.mmengine_private import mark_initialised
from .model_cfg import resolve_cfg_path


def check_torchvision_weights_name(path: str) -> None:
    """Fail early on a ``torchvision://`` name MMEngine does not know."""
    from mmengine.runner.checkpoint import get_torchvision_models
    names = get_torchvision_models()
    name = path[len('torchvision://'):]
    if name not in names:
        close = sorted(
            key for key in names if key.split('.')[0] == name.split('.')[0])
        raise ConfigError(
            f'teacher_ckpt {path} names no torchvision weights: use one of '
            f'{close or "the names torchvision.models.list_models() gives"}, '
            "e.g. 'torchvision://vit_b_16.imagenet1k_v1'.")


def load_teacher_checkpoint(teacher: torch.nn.Module,
                            path: str,
                            strict: bool = True) -> None:
    """Load ``path`` into ``teacher``; with ``strict`` any mismatch fails.

    ``torchvision://NAME`` (MMEngine's scheme, e.g.
    ``torchvision://vit_b_16.imagenet1k_v1`` or ``torchvision://resnet34``)
    loads torchvision's ImageNet weights and
    converts them for the teacher while loading
    (:func:`mmcatkd.converters.torchvision_models.
    convert_torchvision_state_dict`).

    With ``strict=False``, missing and unexpected keys are tolerated and
    counted in a warning, unless the missing tensors hold most of the
    teacher's weights (the checkpoint is then of another model).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        ValueError: differently shaped tensors, missing or unexpected ones
            with ``strict``, or most weights missing (a few of each are
            listed).
    """
    if '://' not in path and osp.isdir(osp.expanduser(path)):
        raise IsADirectoryError(
            f'teacher_ckpt {path} is a directory: give the checkpoint file '
            'in it.')
    if '://' not in path and not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(
            f'teacher_ckpt {path} does not exist: train the teacher first '
            '(configs/vanilla/), convert an MDistiller or '
            'torchvision checkpoint with tools/convert_teacher.py, or pass '
            '--cfg-options model.teacher_ckpt=None for a random teacher.')
    if path.startswith('torchvision://'):
        check_torchvision_weights_name(path)
    state = checkpoint_state_dict(path)
    if path.startswith('torchvision://'):
        # converters are not imported by `import mmcatkd`
        from ...converters.torchvision_models import \
            convert_torchvision_state_dict
        state = convert_torchvision_state_dict(state, teacher.state_dict())
    missing, unexpected, reshaped = state_dict_differences(teacher, state)
    if reshaped or (strict and (missing or unexpected)):
        raise ConfigError(
            f'teacher_ckpt {path} does not match the teacher model: '
            f'{len(missing)} missing keys {missing[:5]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:5]}, {len(reshaped)} shape '
            f'mismatches {reshaped[:5]}. Check that the teacher config '
            'matches the checkpoint (tools/convert_teacher.py converts '
            'MDistiller and torchvision checkpoints); teacher_ckpt_strict='
            'False tolerates missing and unexpected keys only.')
    if missing or unexpected:
        _check_mostly_loaded(teacher, path, missing, unexpected)
    teacher.load_state_dict(state, strict=strict)


def _check_mostly_loaded(teacher: torch.nn.Module, path: str,
                         missing: Sequence[str],
                         unexpected: Sequence[str]) -> None:
    """A non-strict teacher load: refuse when most of the teacher's weights
    (by element count) are missing, else warn with the counts."""
    expected = teacher.state_dict()
    total = sum(tensor.numel() for tensor in expected.values())
    missing_numel = sum(expected[key].numel() for key in missing)
    counts = (f'{len(missing)} of the teacher\'s {len(expected)} tensors '
              f'missing ({100 * missing_numel / max(total, 1):.0f} % of its '
              f'weights, e.g. {list(missing[:3])}), {len(unexpected)} '
              f'unexpected keys (e.g. {list(unexpected[:3])})')
    if 2 * missing_numel > total:
        raise ConfigError(
            f'teacher_ckpt {path} leaves most of the teacher random: '
            f'{counts}. It is a checkpoint of another model: check the '
            'teacher config (tools/convert_teacher.py converts MDistiller '
            'and torchvision checkpoints).')
    print_log(
        f'teacher_ckpt {path} loaded with teacher_ckpt_strict=False: '
        f'{counts}; the missing ones keep their initialisation.',
        logger='current',
        level=logging.WARNING)


def build_teachers(
        teachers: Sequence[Union[BaseModel, Dict]]) -> List[BaseModel]:
    """Build the teachers from their configs (``dict(cfg_path=...)`` too,
    see :func:`resolve_cfg_path`), or take them built.

    They are built with the global random number generator forked: the
    random weights they start with (before their checkpoint) are drawn from
    it as usual, and afterwards it is where it was. What comes after (the
    student's weight initialisation, dropout, the training) is then the
    same for one seed whether a teacher is built or not: with its CAMs from
    a cache (``CachedCATDistill``) a run starts from the student the online
    teacher's run starts from.

    Raises:
        TypeError: a teacher that is neither a config nor a ``BaseModel``.
    """
    with torch.random.fork_rng(devices=[]):
        built = [
            MODELS.build(teacher) if isinstance(teacher, dict) else teacher
            for teacher in map(resolve_cfg_path, teachers)
        ]
    for index, teacher in enumerate(built):
        if not isinstance(teacher, BaseModel):
            which = 'the teacher' if len(built) == 1 else f'teacher {index}'
            raise ConfigTypeError(
                f'{which} must be a model config or a BaseModel,'
                f' got {type(teacher)}.')
    return built


def freeze_teacher(teacher: BaseModel,
                   ckpt: Optional[str] = None,
                   strict: bool = True,
                   inplace: bool = False) -> BaseModel:
    """Load ``ckpt`` (None: keep the weights), turn in-place operations off
    unless ``inplace``, freeze the parameters and switch to eval mode.

    ``ckpt=None`` (a random teacher, for smoke tests) logs a warning,
    unless the teacher came with its weights (a timm teacher built with
    ``pretrained=True``);
    ``ckpt=''`` is refused (a path left empty, not a choice), and so is
    ``ckpt=None`` for a teacher whose weights came without their classifier
    (its ``random_classifier`` says why: timm drops the classifier of
    weights for another class count).
    """
    if ckpt == '':
        raise ConfigError(
            'teacher_ckpt is an empty string: give the trained teacher\'s '
            'checkpoint, or None for a random teacher (smoke tests only).')
    random_classifier = getattr(teacher, 'random_classifier', None)
    if ckpt is None and random_classifier:
        # the teacher's own weights, all but its classifier
        raise ConfigError('a teacher needs its trained classifier, and '
                          f'{random_classifier}.')
    if ckpt is None and getattr(teacher, 'pretrained', False):
        print_log(
            f'teacher weights: timm\'s {teacher.model_name}.',
            logger='current')
    elif ckpt is None:
        print_log(
            'teacher_ckpt=None: distilling from a teacher with random '
            'weights (smoke tests only); give teacher_ckpt for a real run.',
            logger='current',
            level=logging.WARNING)
    if ckpt:
        load_teacher_checkpoint(teacher, ckpt, strict)
        mark_initialised(teacher)  # keep init_weights off the loaded weights
    if not inplace:
        for module in teacher.modules():
            if hasattr(module, 'inplace'):
                module.inplace = False
    teacher.requires_grad_(False)
    return teacher.eval()


TEACHER_MODES = ('eval', 'train')


def check_teacher_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`TEACHER_MODES`, else a clear error."""
    if mode not in TEACHER_MODES:
        raise ConfigError(
            f"teacher_mode must be 'eval' (frozen BN statistics, no dropout) "
            f"or 'train' (the teachers never switched to eval mode, as in "
            f"the multi-teacher study's code), got {mode!r}.")
    return mode


def set_teacher_mode(teachers: torch.nn.Module, mode: str) -> None:
    """Put frozen teachers in ``mode``, whatever mode the student is in.

    - ``'eval'``: BN normalises with its running statistics, dropout and
      drop-path are off; the teacher computes one fixed function.
    - ``'train'``: what the code of Guo et al. (ESWA 2025, zisci2/RethinkKD)
      does, which never calls ``eval()`` on its teachers: BN normalises each
      batch with that batch's statistics (in validation too) and every
      forward, though under ``no_grad``, moves its running statistics.
      The teachers' outputs then depend on the batch they are in.
    """
    teachers.train(check_teacher_mode(mode) == 'train')


def check_class_counts(student: torch.nn.Module,
                       teachers: Sequence[torch.nn.Module]) -> None:
    """Raise ``ValueError`` unless every teacher's head predicts as many
    classes as the student's (heads without ``num_classes`` are skipped)."""
    num_student = getattr(getattr(student, 'head', None), 'num_classes', None)
    for index, teacher in enumerate(teachers):
        num_teacher = getattr(
            getattr(teacher, 'head', None), 'num_classes', None)
        if None not in (num_student, num_teacher) and \
                num_student != num_teacher:
            which = 'the teacher' if len(teachers) == 1 else \
                f'teacher {index}'
            raise ConfigError(
                f'the student predicts {num_student} classes and {which} '
                f'{num_teacher}: distillation needs the same classes.')
