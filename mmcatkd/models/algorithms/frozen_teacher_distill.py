"""Single-teacher distillation from a frozen teacher, for any distiller."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS

from .cat_distill import load_teacher_checkpoint
from .model_cfg import resolve_cfg_path

LossResults = Dict[str, torch.Tensor]


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

    def _check_class_counts(self) -> None:
        counts = [
            getattr(getattr(model, 'head', None), 'num_classes', None)
            for model in (self.student, self.teacher)
        ]
        if None not in counts and counts[0] != counts[1]:
            raise ValueError(
                f'the student predicts {counts[0]} classes and the teacher '
                f'{counts[1]}: logit distillation needs the same classes.')

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
            self.teacher(batch_inputs, mode='tensor')

        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.calculate_student_loss:
                student_losses = self.student(
                    batch_inputs, data_samples, mode='loss')
                losses.update(add_prefix(student_losses, 'student'))
            else:
                self.student(batch_inputs, mode='tensor')

        if not self.distillation_stopped:
            losses.update(
                add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self
