"""Distillation from frozen teachers: the one training step of every
mmcatkd algorithm."""
from contextlib import ExitStack
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.models.algorithms import BaseAlgorithm
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ...utils.errors import ConfigError
from ..distillers.cam_distiller import CAMDistiller
from .model_cfg import algorithm_kwargs
from .teacher import (build_teachers, check_class_counts, freeze_teacher,
                      set_teacher_mode)

LossResults = Dict[str, torch.Tensor]


def run_to_records(model: BaseModel, only_backbone: bool,
                   batch_inputs: torch.Tensor) -> None:
    """Run ``model`` as far as its recorders need, without labels: only its
    backbone when that fills every record, else its whole forward
    (``mode='tensor'``)."""
    if only_backbone:
        model.backbone(batch_inputs)
    else:
        model(batch_inputs, mode='tensor')


def needs_only_backbone(distillers: Sequence[ConfigurableDistiller],
                        side: str) -> bool:
    """Whether the ``side`` model ('student' or 'teacher') fills the records
    of every one of ``distillers`` with its backbone alone, as a
    ``CAMDistiller`` says (:meth:`CAMDistiller.needs_only_backbone`); other
    distillers record what the whole forward gives."""
    return all(
        isinstance(distiller, CAMDistiller)
        and distiller.needs_only_backbone(side) for distiller in distillers)


def check_flags(**flags) -> None:
    """Refuse a flag that is not a bool (the string 'False' is true)."""
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise ConfigError(f'{name} must be True or False, got {flag!r}.')


@MODELS.register_module()
class FrozenTeacherDistill(BaseAlgorithm):
    """Distillation from a frozen teacher; the base of every mmcatkd
    algorithm, which owns their training step (:meth:`loss`).

    One step: :meth:`record_teachers` fills the teacher side of the
    distillers' records (here: the teacher's forward), the student runs once
    into the student side of all of them, and the distillation losses are
    computed (averaged over the distillers, one per teacher). The variants
    override that one hook: ``CachedCATDistill`` reads the teacher's CAMs
    from a cache, ``MultiTeacherDistill`` runs several teachers;
    ``CAKDDistill`` only scales the losses.

    Used as it is for distillers that record logits and features rather
    than CAMs, such as [CLS]-KD's ("Adaptive class token knowledge
    distillation for efficient vision transformer", Kang et al.,
    Knowledge-Based Systems 2024) on MMPretrain's DeiT models. Unlike
    MMRazor's ``SingleTeacherDistill``:

    - the teacher (:mod:`.teacher`) is built without drawing from the global
      random number generator, frozen and in eval mode for the whole run
      (dropout and drop-path included); it runs under ``torch.no_grad()``
      on the same (batch-augmented, e.g. mixed) inputs as the student,
      never sees labels and its task loss is never computed;
    - ``teacher_ckpt`` is loaded strictly (a key mismatch is an error);
    - ``calculate_student_loss=False`` runs the student in ``mode='tensor'``
      too: its records are filled and no task loss is computed (what a
      cross-entropy weight of 0 means);
    - student and teacher class counts are checked at construction when
      both heads declare ``num_classes``;
    - a model runs only its backbone when that fills its records, as a
      ``CAMDistiller`` says (:func:`needs_only_backbone`);
    - ``channels_last`` lays out every model and the inputs for CUDA's
      fastest convolutions.

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
        channels_last (bool): keep the models' conv weights and the inputs
            in ``torch.channels_last`` memory format, which cuDNN's fastest
            convolutions (tensor cores, AMP) use. Same results up to float
            rounding. Defaults to False.
        teacher_module_inplace (bool): leave the teacher's in-place
            operations on. Defaults to False.
        **kwargs: ``architecture`` (the student; same forms as ``teacher``),
            ``data_preprocessor``, ``init_cfg``.
    """

    # the mode the teachers stay in, whatever the student's
    teacher_mode = 'eval'

    def __init__(self,
                 distiller: dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True,
                 calculate_student_loss: bool = True,
                 channels_last: bool = False,
                 teacher_module_inplace: bool = False,
                 **kwargs) -> None:
        if teacher_ckpt is not None and not isinstance(teacher_ckpt, str):
            raise ConfigError(
                'teacher_ckpt must be a checkpoint path or None, '
                f'got {teacher_ckpt!r}.')
        check_flags(teacher_ckpt_strict=teacher_ckpt_strict)
        self._init_student(calculate_student_loss, channels_last, kwargs)
        self.teacher = build_teachers([teacher])[0]
        self.distiller = MODELS.build(distiller)
        self.distiller.prepare_from_student(self.student)
        self.distiller.prepare_from_teacher(self.teacher)
        check_class_counts(self.student, [self.teacher])
        self._freeze(self.teacher, teacher_ckpt, teacher_ckpt_strict,
                     teacher_module_inplace)

    def _init_student(self, calculate_student_loss: bool, channels_last: bool,
                      kwargs: Dict) -> None:
        """What every algorithm here starts its ``__init__`` with:
        ``BaseAlgorithm``'s (the student, from ``kwargs``) and the options
        of the step. The variants without one teacher config (cached,
        multi-teacher) call it in place of this class's ``__init__``."""
        if kwargs.pop('teacher_trainable', False):
            raise ConfigError(f'{type(self).__name__} keeps the teacher '
                              'frozen: teacher_trainable=True is not '
                              'supported.')
        if not kwargs.pop('teacher_norm_eval', True):
            raise ConfigError(f'{type(self).__name__} keeps the whole teacher '
                              'in eval mode: teacher_norm_eval=False is not '
                              'supported.')
        if not kwargs.pop('student_trainable', True):
            raise ConfigError(f'{type(self).__name__} always trains the '
                              'student: student_trainable=False is not '
                              'supported.')
        check_flags(
            calculate_student_loss=calculate_student_loss,
            channels_last=channels_last)
        super().__init__(**algorithm_kwargs(kwargs))
        self.calculate_student_loss = calculate_student_loss
        self.channels_last = channels_last
        # may be set by MMRazor's StopDistillHook
        self.distillation_stopped = False
        self._lay_out(self.student)

    def _freeze(self, teacher: BaseModel, ckpt: Optional[str], strict: bool,
                inplace: bool) -> None:
        """Load, freeze and lay out a teacher (see :mod:`.teacher`)."""
        freeze_teacher(teacher, ckpt, strict, inplace)
        self._lay_out(teacher)

    def _lay_out(self, model: nn.Module) -> None:
        """With ``channels_last``, convert ``model``'s weights. Once, at
        construction: weight initialisation, checkpoint loading and
        ``.to(device)`` write in place and keep the format, and the
        optimizer is built after the model."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last)

    @property
    def student(self) -> nn.Module:
        """Alias for ``architecture``."""
        return self.architecture

    def teacher_modules(self) -> List[nn.Module]:
        """The modules holding the teachers, which :meth:`train` keeps in
        ``teacher_mode``."""
        return [self.teacher]

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck') -> Union[tuple, torch.Tensor]:
        """The student's features of ``inputs`` (N, C, H, W) at ``stage``
        (``ImageClassifier.extract_feat``: 'backbone', 'neck' or
        'pre_logits'): what deploys of a distillation is its student, and
        what MMPretrain's ``analysis_tools/get_flops.py`` counts."""
        return self.student.extract_feat(inputs, stage=stage)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """As ``BaseAlgorithm``; with ``channels_last`` the batch is
        converted first, so every mode (loss, predict, tensor) gets it."""
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().forward(inputs, data_samples, mode)

    def record_teachers(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None
    ) -> List[ConfigurableDistiller]:
        """Fill the teacher side of the records for this batch and return
        the distillers that hold them, one per teacher.

        Here: the teacher runs into the distiller (:meth:`_run_teacher`).
        """
        self._run_teacher(self.teacher, self.distiller, batch_inputs)
        return [self.distiller]

    @staticmethod
    def _run_teacher(teacher: BaseModel, distiller: ConfigurableDistiller,
                     batch_inputs: torch.Tensor) -> None:
        """Run ``teacher`` under ``torch.no_grad()`` as far as the teacher
        records of ``distiller`` need; its deliveries record the outputs."""
        only_backbone = needs_only_backbone([distiller], 'teacher')
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries, \
                torch.no_grad():
            run_to_records(teacher, only_backbone, batch_inputs)

    def loss(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None,
    ) -> LossResults:
        """Student task loss (``student.``, optional) and distillation
        losses (``distill.``), each averaged over the teachers."""
        losses = dict()
        distillers = self.record_teachers(batch_inputs, data_samples)

        # one student forward feeds the student records of every distiller
        with ExitStack() as recording:
            for distiller in distillers:
                distiller.set_deliveries_override(True)
                recording.enter_context(distiller.student_recorders)
                recording.enter_context(distiller.deliveries)
            if self.calculate_student_loss:
                losses.update(
                    add_prefix(
                        self.student(batch_inputs, data_samples, mode='loss'),
                        'student'))
            else:
                run_to_records(self.student,
                               needs_only_backbone(distillers, 'student'),
                               batch_inputs)

        if not self.distillation_stopped:
            per_teacher = [
                distiller.compute_distill_losses() for distiller in distillers
            ]
            losses.update(
                add_prefix(
                    self.combine_distill_losses(per_teacher), 'distill'))
        return losses

    def combine_distill_losses(self,
                               per_teacher: List[LossResults]) -> LossResults:
        """Each distillation loss averaged over the teachers."""
        if len(per_teacher) == 1:
            return per_teacher[0]
        return {
            name: sum(losses[name]
                      for losses in per_teacher) / len(per_teacher)
            for name in per_teacher[0]
        }

    def train(self, mode: bool = True) -> 'FrozenTeacherDistill':
        """Set the student's mode; the teachers stay in ``teacher_mode``
        (eval: they always compute one fixed function)."""
        super().train(mode)
        for teachers in self.teacher_modules():
            set_teacher_mode(teachers, self.teacher_mode)
        return self
