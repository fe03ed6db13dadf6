"""The teacher policy every mmcatkd distillation algorithm follows.

A teacher is built from a config (or given built), its checkpoint loaded
strictly through the safe loader, its in-place operations turned off (a
recorder must see outputs no later layer overwrites), its parameters frozen
and its modules kept in eval mode (or, as the multi-teacher study's authors
leave theirs, in train mode: :func:`set_teacher_mode`); it predicts the
student's classes.
"""
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModel

from ...utils import checkpoint_state_dict, state_dict_differences


def check_torchvision_weights_name(path: str) -> None:
    """Fail early on a ``torchvision://`` name MMEngine does not know."""
    from mmengine.runner.checkpoint import get_torchvision_models
    names = get_torchvision_models()
    name = path[len('torchvision://'):]
    if name not in names:
        close = sorted(key for key in names
                       if key.split('.')[0] == name.split('.')[0])
        raise ValueError(
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

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: missing, unexpected or differently shaped tensors (a few
            of each are listed).
    """
    if '://' not in path and not osp.isfile(osp.expanduser(path)):
        raise FileNotFoundError(
            f'teacher_ckpt {path} does not exist: train the teacher first '
            '(configs/cifar100/teachers/), convert an MDistiller or '
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
        raise ValueError(
            f'teacher_ckpt {path} does not match the teacher model: '
            f'{len(missing)} missing keys {missing[:5]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:5]}, {len(reshaped)} shape '
            f'mismatches {reshaped[:5]}. Check that the teacher config '
            'matches the checkpoint (tools/convert_teacher.py converts '
            'MDistiller and torchvision checkpoints); teacher_ckpt_strict='
            'False tolerates missing and unexpected keys only.')
    teacher.load_state_dict(state, strict=strict)


def freeze_teacher(teacher: BaseModel,
                   ckpt: Optional[str] = None,
                   strict: bool = True,
                   inplace: bool = False) -> BaseModel:
    """Load ``ckpt`` (None: keep the weights), turn in-place operations off
    unless ``inplace``, freeze the parameters and switch to eval mode."""
    if ckpt:
        load_teacher_checkpoint(teacher, ckpt, strict)
        teacher._is_init = True  # keep init_weights off the loaded weights
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
        raise ValueError(
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
            raise ValueError(
                f'the student predicts {num_student} classes and {which} '
                f'{num_teacher}: distillation needs the same classes.')
