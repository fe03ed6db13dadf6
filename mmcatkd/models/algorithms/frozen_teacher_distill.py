"""Single-teacher distillation from a frozen teacher, for any distiller."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from .model_cfg import algorithm_kwargs, resolve_cfg_path
from .teacher import check_class_counts, freeze_teacher, set_teacher_mode

LossResults = Dict[str, torch.Tensor]


def run_to_records(model: BaseModel, only_cams: bool,
                   batch_inputs: torch.Tensor) -> None:
    """Run ``model`` as far as its recorders need, without labels: only its
    backbone when the CAM recorder is its only recorder, else its whole
    forward (``mode='tensor'``)."""
    if only_cams:
        model.backbone(batch_inputs)
    else:
        model(batch_inputs, mode='tensor')


@MODELS.register_module()
class FrozenTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` with mmcatkd's teacher policy (see .teacher).

    The base of ``CATDistill`` and ``CAKDDistill``, and used as it is for
    distillers that record logits and features rather than CAMs, such as
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
      both heads declare ``num_classes``;
    - a model whose only recorder is a distiller's CAM recorder
      (``records_only_cams``) runs only its backbone (:func:`run_to_records`).

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
        super().__init__(
            distiller=distiller,
            teacher=resolve_cfg_path(teacher),
            teacher_ckpt=None,
            teacher_trainable=False,
            calculate_student_loss=calculate_student_loss,
            **algorithm_kwargs(kwargs))
        check_class_counts(self.student, [self.teacher])
        freeze_teacher(self.teacher, teacher_ckpt, teacher_ckpt_strict,
                       self.teacher_module_inplace)

    def _forward_for_records(self, role: str,
                             batch_inputs: torch.Tensor) -> None:
        """Run the student or teacher as far as its recorders need, without
        labels (see :func:`run_to_records`)."""
        only_cams = getattr(self.distiller, 'records_only_cams', {})
        run_to_records(
            getattr(self, role), only_cams.get(role, False), batch_inputs)

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
        set_teacher_mode(self.teacher, 'eval')
        return self
