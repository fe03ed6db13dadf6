"""The CAT-KD training algorithm on MMRazor's single-teacher distillation."""
import re
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from ..recorders import classifier_of, find_module
from .model_cfg import resolve_cfg_path

LossResults = Dict[str, torch.Tensor]


def teacher_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The model weights in an MMEngine/MMPretrain checkpoint (safe loader).

    ``state_dict`` is unwrapped and DataParallel's ``module.`` is stripped.
    """
    checkpoint = _load_checkpoint(path, map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', key): value for key, value in state.items()}


def load_teacher_checkpoint(teacher: torch.nn.Module,
                            path: str,
                            strict: bool = True) -> None:
    """Load ``path`` into ``teacher``; with ``strict`` any mismatch fails.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: missing, unexpected or differently shaped tensors (a few
            of each are listed).
    """
    state = teacher_state_dict(path)
    expected = teacher.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(
        f'{key} {tuple(state[key].shape)} vs {tuple(expected[key].shape)}'
        for key in set(state) & set(expected)
        if state[key].shape != expected[key].shape)
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
class CATDistill(SingleTeacherDistill):
    """Class Attention Transfer KD (Guo et al., CVPR 2023, Eq. 6).

    "Class Attention Transfer Based Knowledge Distillation",
    https://arxiv.org/abs/2304.12777

    Loss = CE(student) + beta * CAT(CAM_student, CAM_teacher), with the CAMs
    recorded by a :class:`CAMDistiller`. Differences from MMRazor's
    ``SingleTeacherDistill``:

    - the teacher is frozen and in eval mode for the whole run (dropout and
      drop-path included) and runs under ``torch.no_grad()`` only as far as
      its CAMs (its backbone) unless other teacher recorders need its head;
      its task loss is never computed;
    - ``teacher_ckpt`` is loaded strictly: a key mismatch is an error;
    - ``calculate_student_loss=False`` gives CAT alone, and labels are never
      used (the paper's CAT experiments);
    - student and teacher class counts are checked at construction.

    Args:
        distiller (dict): a ``CAMDistiller`` config.
        teacher (dict | BaseModel): the teacher classifier: a model config,
            a built model, or ``dict(cfg_path=...)`` naming a config file
            (local or ``'mmpretrain::...'``), see :func:`resolve_cfg_path`.
        teacher_ckpt (str, optional): teacher checkpoint. Defaults to None.
        teacher_ckpt_strict (bool): fail on missing/unexpected keys.
            Defaults to True.
        calculate_student_loss (bool): add the student's own loss (CE).
            Defaults to True.
        channels_last (bool): keep student and teacher conv weights and the
            inputs in ``torch.channels_last`` memory format, which cuDNN's
            fastest convolutions (tensor cores, AMP) use. Same results up to
            float rounding. Defaults to False.
        **kwargs: ``architecture`` (the student; same forms as
            ``teacher``), ``data_preprocessor``,
            ``init_cfg``, ``teacher_module_inplace``.
    """

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True,
                 calculate_student_loss: bool = True,
                 channels_last: bool = False,
                 **kwargs) -> None:
        if kwargs.pop('teacher_trainable', False):
            raise ValueError('CATDistill keeps the teacher frozen: '
                             'teacher_trainable=True is not supported.')
        if not kwargs.pop('student_trainable', True):
            raise ValueError('CATDistill always trains the student: '
                             'student_trainable=False is not supported.')
        if teacher_ckpt is not None and not isinstance(teacher_ckpt, str):
            raise ValueError('teacher_ckpt must be a checkpoint path or None, '
                             f'got {teacher_ckpt!r}.')
        for name, flag in (('teacher_ckpt_strict', teacher_ckpt_strict),
                           ('calculate_student_loss', calculate_student_loss)):
            if not isinstance(flag, bool):  # 'False' would count as True
                raise ValueError(
                    f'{name} must be True or False, got {flag!r}.')
        preprocessor = kwargs.get('data_preprocessor')
        if isinstance(preprocessor, dict) and 'type' not in preprocessor:
            # As MMPretrain's ImageClassifier does for a bare top-level
            # `data_preprocessor`, which MMEngine's Runner passes here.
            kwargs['data_preprocessor'] = dict(
                preprocessor, type='mmpretrain.ClsDataPreprocessor')
        if 'architecture' in kwargs:
            kwargs['architecture'] = resolve_cfg_path(kwargs['architecture'])
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
        self.channels_last = channels_last
        if channels_last:
            # Converted once here: weight initialisation, checkpoint loading
            # and .to(device) all write in place and keep the format, and the
            # optimizer is built after the model.
            self.student.to(memory_format=torch.channels_last)
            self.teacher.to(memory_format=torch.channels_last)

    def _check_class_counts(self) -> None:
        heads = {
            role: classifier_of(find_module(model, 'head'))
            for role, model in (('student', self.student),
                                ('teacher', self.teacher))
        }
        num_student = heads['student'].out_features
        num_teacher = heads['teacher'].out_features
        if num_student != num_teacher:
            raise ValueError(
                f'the student predicts {num_student} classes and the teacher '
                f'{num_teacher}: CAT-KD transfers one CAM per class, so both '
                'need the same classes.')

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """As ``SingleTeacherDistill``; with ``channels_last`` the batch is
        converted first, so every mode (loss, predict, tensor) gets it."""
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().forward(inputs, data_samples, mode)

    def _forward_for_records(self, model: BaseModel, only_cams: bool,
                             batch_inputs: torch.Tensor) -> None:
        """Run ``model`` as far as its recorders need, without labels."""
        if only_cams:
            model.backbone(batch_inputs)
        else:
            model(batch_inputs, mode='tensor')

    def loss(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> LossResults:
        """Student loss (prefix ``student.``) and CAT loss (``distill.``)."""
        losses = dict()
        only_cams = self.distiller.records_only_cams

        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, \
                torch.no_grad():
            self._forward_for_records(self.teacher, only_cams['teacher'],
                                      batch_inputs)

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self._forward_for_records(self.student, only_cams['student'],
                                          batch_inputs)

        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(),
                           'distill'))
        return losses

    def train(self, mode: bool = True) -> 'CATDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self
