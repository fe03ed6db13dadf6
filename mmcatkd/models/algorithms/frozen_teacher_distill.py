"""Single-teacher distillation from a frozen teacher, for any distiller."""
import os.path as osp
import re
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from .model_cfg import resolve_cfg_path

LossResults = Dict[str, torch.Tensor]


def state_dict_differences(model: torch.nn.Module, state: Dict):
    """Keys of ``model`` missing from ``state``, keys of ``state`` the model
    lacks, and ``'key (shape) vs (shape)'`` for tensors of another shape;
    each sorted. DataParallel's ``module.`` prefix is ignored."""
    state = {re.sub(r'^module\.', '', key): value
             for key, value in state.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(
        f'{key} {tuple(state[key].shape)} vs {tuple(expected[key].shape)}'
        for key in set(state) & set(expected)
        if hasattr(state[key], 'shape')
        and state[key].shape != expected[key].shape)
    return missing, unexpected, reshaped


def bare_preprocessor_as_cls(kwargs: Dict) -> Dict:
    """``kwargs`` with a ``data_preprocessor`` dict lacking ``type`` made an
    MMPretrain ``ClsDataPreprocessor``, as MMPretrain's ImageClassifier does
    for the bare top-level ``data_preprocessor`` MMEngine's Runner passes;
    and ``architecture`` given by ``cfg_path`` expanded."""
    preprocessor = kwargs.get('data_preprocessor')
    if isinstance(preprocessor, dict) and 'type' not in preprocessor:
        kwargs['data_preprocessor'] = dict(
            preprocessor, type='mmpretrain.ClsDataPreprocessor')
    if 'architecture' in kwargs:
        kwargs['architecture'] = resolve_cfg_path(kwargs['architecture'])
    return kwargs


def teacher_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The model weights in an MMEngine/MMPretrain checkpoint (safe loader).

    ``state_dict`` is unwrapped and DataParallel's ``module.`` is stripped.
    """
    checkpoint = _load_checkpoint(path, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', key): value for key, value in state.items()}


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
    state = teacher_state_dict(path)
    if path.startswith('torchvision://'):
        # converters are not imported by `import mmcatkd`
        from mmcatkd.converters.torchvision_models import \
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


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` with the teacher handling of ``CATDistill``.

    For distillers that record logits and features rather than CAMs, such as
    [CLS]-KD's ("Adaptive class token knowledge distillation for efficient
    vision transformer", Kang et al., Knowledge-Based Systems 2024) on
    MMPretrain's DeiT models. Differences from ``SingleTeacherDistill``:

    - the teacher is frozen and in eval mode for the whole run (dropout and
      drop-path included) and runs in ``mode='tensor'`` under
      ``torch.no_grad()``, on the same (batch-augmented, e.g. mixed) inputs
      as the student; it never sees labels and its task loss is never
      computed;
    - ``teacher_ckpt`` is loaded strictly (a key mismatch is an error);
    - ``calculate_student_loss=False`` runs the student in ``mode='tensor'``
      too: its logits reach the recorders and no task loss is computed
      (what a cross-entropy weight of 0 means);
    - student and teacher class counts are checked at construction when
      both heads declare ``num_classes``.

    Args:
        distiller (dict): a ``ConfigurableDistiller`` (or subclass) config.
        teacher (dict | BaseModel): a model config, a built model, or
            ``dict(cfg_path=...)`` naming a local config file or
            ``'mmpretrain::...'``, see :func:`resolve_cfg_path`.
        teacher_ckpt (str, optional): teacher checkpoint, a path or a URL.
            Defaults to None.
        teacher_ckpt_strict (bool): fail on missing/unexpected keys.
            Defaults to True.
        calculate_student_loss (bool): add the student's own task loss.
            Defaults to True.
        **kwargs: ``architecture`` (the student; same forms as ``teacher``),
            ``data_preprocessor``, ``init_cfg``, ``teacher_module_inplace``.
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True,
                 calculate_student_loss: bool = True,
                 **kwargs) -> None:
        if kwargs.pop('teacher_trainable', False):
            raise ValueError('FrozenTeacherDistill keeps the teacher frozen: '
                             'teacher_trainable=True is not supported.')
        if not kwargs.pop('student_trainable', True):
            raise ValueError('FrozenTeacherDistill always trains the student:'
                             ' student_trainable=False is not supported.')
        if teacher_ckpt is not None and not isinstance(teacher_ckpt, str):
            raise ValueError('teacher_ckpt must be a checkpoint path or None, '
                             f'got {teacher_ckpt!r}.')
        for name, flag in (('teacher_ckpt_strict', teacher_ckpt_strict),
                           ('calculate_student_loss', calculate_student_loss)):
            if not isinstance(flag, bool):  # 'False' would count as True
                raise ValueError(
                    f'{name} must be True or False, got {flag!r}.')
        bare_preprocessor_as_cls(kwargs)
        super().__init__(
            distiller=distiller,
            teacher=resolve_cfg_path(teacher),
            teacher_ckpt=None,
            teacher_trainable=False,
            calculate_student_loss=calculate_student_loss,
            **kwargs)
        self._check_class_counts()
        if teacher_ckpt:
            load_teacher_checkpoint(self.teacher, teacher_ckpt,
                                    teacher_ckpt_strict)
            self.teacher._is_init = True  # keep init_weights off the weights
        self.teacher.eval()

    def _check_class_counts(self) -> None:
        counts = [
            getattr(getattr(model, 'head', None), 'num_classes', None)
            for model in (self.student, self.teacher)
        ]
        if None not in counts and counts[0] != counts[1]:
            raise ValueError(
                f'the student predicts {counts[0]} classes and the teacher '
                f'{counts[1]}: logit distillation needs the same classes.')

    def _forward_for_records(self, role: str,
                             batch_inputs: torch.Tensor) -> None:
        """Run the student or teacher as far as its recorders need, without
        labels: here its whole forward (``mode='tensor'``)."""
        getattr(self, role)(batch_inputs, mode='tensor')

    def loss(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> LossResults:
        """Student task loss (``student.``, optional) and distillation
        losses (``distill.``)."""
        losses = dict()

        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, \
                torch.no_grad():
            self._forward_for_records('teacher', batch_inputs)

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self._forward_for_records('student', batch_inputs)

        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self
