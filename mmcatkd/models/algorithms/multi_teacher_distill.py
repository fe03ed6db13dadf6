"""Distillation from several frozen teachers, per-teacher losses averaged.

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", Expert Systems with Applications 262 (2025),
https://arxiv.org/abs/2405.00739, Sec. 3: one to three teachers, each trained
with weak or strong augmentation, distil one student.
"""
import contextlib
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmpretrain.structures import DataSample
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS
from torch import nn

from ...utils.errors import ConfigError
from ..cams import logits_and_cams
from .frozen_teacher_distill import FrozenTeacherDistill, check_flags
from .teacher import build_teachers, check_class_counts, check_teacher_mode


@MODELS.register_module()
class MultiTeacherDistill(FrozenTeacherDistill):
    """Knowledge distillation from T frozen teachers (Guo et al., ESWA 2025).

    "Why does Knowledge Distillation Work? Rethink its Attention and Fidelity
    Mechanism", https://arxiv.org/abs/2405.00739

    Each teacher gets its own copy of ``distiller``, prepared with the
    student and that teacher, so any MMRazor distiller works per teacher:
    a ``ConfigurableDistiller`` with ``KLDivergence`` on recorded logits (the
    paper's KD), or a ``CAMDistiller`` (CAT between the student's CAMs and
    that teacher's). Every distill loss is averaged over the teachers:

        loss = student task loss + (1/T) sum_t distill_loss(student, t)

    which is the paper's mean over teachers of
    ``alpha CE + (1 - alpha) tau^2 KL(p_t^tau || p_s^tau)`` when the student's
    CE weight is alpha and ``KLDivergence(tau, loss_weight=1 - alpha)``.
    Teachers and student see the same (augmented) batch. The step is
    :class:`FrozenTeacherDistill`'s; this class fills the teacher records
    (:meth:`record_teachers`) of every teacher's distiller.

    The teachers live in ``teachers`` (an ``nn.ModuleList``, so checkpoints
    hold them), are frozen (``requires_grad=False``; build the optimizer with
    ``mmrazor.TrainableOptimWrapperConstructor`` to leave them out of it),
    stay in eval mode for the whole run (``teacher_mode='train'``: in train
    mode, as the authors' code leaves them, see :func:`set_teacher_mode`),
    and run under ``torch.no_grad()`` only as far as their recorders need
    (their backbone alone for CAMs). Their task loss is never computed.

    Args:
        distiller (dict): the distiller config each teacher gets a copy of.
        teachers (Sequence[dict | BaseModel]): the teacher classifiers: model
            configs, built models, or ``dict(cfg_path=...)`` (see
            :func:`resolve_cfg_path`).
        teacher_ckpts (Sequence[str | None], optional): one checkpoint per
            teacher (None: keep that teacher's initial weights), loaded
            strictly by :func:`load_teacher_checkpoint`. Defaults to None.
        teacher_ckpt_strict (bool): fail on missing/unexpected keys.
            Defaults to True.
        calculate_student_loss (bool): add the student's own loss (its CE,
            weighted by its head's ``loss_weight``). Defaults to True.
        attach_teacher_outputs (bool): in ``predict``, run the teachers too
            and store in each data sample the student's logits
            (``pred_logits``, (K,)), the teachers' (``teacher_logits``,
            (T, K)), everyone's class-summed CAMs (``cams``, a list of
            1 + T maps, student first) and the input size
            (``batch_input_shape``), for the ``TeacherFidelity`` and
            ``CAMIoU`` metrics. Defaults to False (predict is the student's).
            The teachers' logits come from their ``teacher_mode``; their
            CAMs see ``cam_teacher_mode``.
        teacher_mode (str): 'eval' or 'train', the mode the teachers stay
            in (training and validation alike). Defaults to 'eval'.
        cam_teacher_mode (str): 'eval' or 'train', the mode the teachers'
            attached CAMs are taken in. 'eval' (the default) is the authors'
            IoU script (``IoU/calculate-IoU.py`` puts both models in eval
            mode, the teachers with the running statistics of their
            checkpoints): with ``teacher_mode='train'`` the teachers run a
            second time for their CAMs, in eval mode with the running
            statistics they had when built, which the train-mode forwards
            have since moved. 'train' takes them from the train-mode pass.
        channels_last (bool): as :class:`FrozenTeacherDistill`.
            Defaults to False.
        **kwargs: ``architecture`` (the student; same forms as a teacher),
            ``data_preprocessor``, ``init_cfg``.
    """

    def __init__(self,
                 distiller: dict,
                 teachers: Sequence[Union[BaseModel, Dict]],
                 teacher_ckpts: Optional[Sequence[Optional[str]]] = None,
                 teacher_ckpt_strict: bool = True,
                 calculate_student_loss: bool = True,
                 attach_teacher_outputs: bool = False,
                 teacher_mode: str = 'eval',
                 cam_teacher_mode: str = 'eval',
                 channels_last: bool = False,
                 **kwargs) -> None:
        check_teacher_mode(teacher_mode)
        check_teacher_mode(cam_teacher_mode)
        if not isinstance(teachers, (list, tuple)) or not teachers:
            raise ConfigError('teachers must be a non-empty list of teacher '
                              f'models or configs, got {teachers!r}.')
        if teacher_ckpts is None:
            teacher_ckpts = [None] * len(teachers)
        if len(teacher_ckpts) != len(teachers):
            raise ConfigError(
                f'{len(teacher_ckpts)} teacher_ckpts for {len(teachers)} '
                'teachers: give one checkpoint (or None) per teacher.')
        check_flags(teacher_ckpt_strict=teacher_ckpt_strict)
        self._init_student(calculate_student_loss, channels_last, kwargs)
        self.teacher_mode = teacher_mode
        self.cam_teacher_mode = cam_teacher_mode
        self.attach_teacher_outputs = attach_teacher_outputs

        self.teachers = nn.ModuleList(build_teachers(teachers))
        check_class_counts(self.student, self.teachers)
        for teacher, ckpt in zip(self.teachers, teacher_ckpts):
            self._freeze(teacher, ckpt, teacher_ckpt_strict, inplace=False)
        # the statistics the eval-mode CAMs use: the checkpoints' as built
        # (a plain attribute, not a buffer: checkpoints stay as they were)
        self._built_statistics = [{
            name: buffer.detach().clone()
            for name, buffer in teacher.named_buffers()
        } for teacher in self.teachers] if self._separate_cam_pass else []

        self.distillers = nn.ModuleList()
        for teacher in self.teachers:
            per_teacher = MODELS.build(copy.deepcopy(distiller))
            per_teacher.prepare_from_student(self.student)
            per_teacher.prepare_from_teacher(teacher)
            self.distillers.append(per_teacher)

    @property
    def _separate_cam_pass(self) -> bool:
        """Whether the attached teacher CAMs need their own forward."""
        return (self.attach_teacher_outputs
                and self.cam_teacher_mode != self.teacher_mode)

    @contextlib.contextmanager
    def _in_cam_mode(self, index: int):
        """Teacher ``index`` in ``cam_teacher_mode`` (with its built
        statistics for 'eval'); its mode and buffers are restored after."""
        teacher = self.teachers[index]
        if not self._separate_cam_pass:
            yield teacher
            return
        current = {
            name: buffer.detach().clone()
            for name, buffer in teacher.named_buffers()
        }
        buffers = dict(teacher.named_buffers())
        try:
            if self.cam_teacher_mode == 'eval':
                for name, value in self._built_statistics[index].items():
                    buffers[name].copy_(value)
            teacher.train(self.cam_teacher_mode == 'train')
            yield teacher
        finally:
            for name, value in current.items():
                buffers[name].copy_(value)
            teacher.train(self.teacher_mode == 'train')

    def teacher_modules(self) -> List[nn.Module]:
        """``teachers``, kept in ``teacher_mode``."""
        return [self.teachers]

    def record_teachers(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None
    ) -> List[ConfigurableDistiller]:
        """Each teacher runs (frozen, under ``torch.no_grad()``) into the
        teacher records of its own distiller; the step then averages the
        distillers' losses."""
        for distiller, teacher in zip(self.distillers, self.teachers):
            self._run_teacher(teacher, distiller, batch_inputs)
        return list(self.distillers)

    def _predict(self,
                 inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None):
        """The student's predictions; with ``attach_teacher_outputs`` also
        the logits and CAMs the fidelity and CAM IoU metrics need."""
        if not self.attach_teacher_outputs:
            return self.student(inputs, data_samples, mode='predict')
        with torch.no_grad():
            outputs = [
                logits_and_cams(model, inputs)
                for model in (self.student, *self.teachers)
            ]
            if self._separate_cam_pass:
                teacher_cams = []
                for index in range(len(self.teachers)):
                    with self._in_cam_mode(index) as teacher:
                        teacher_cams.append(
                            logits_and_cams(teacher, inputs)[1])
                outputs = [outputs[0]] + [
                    (logits, cams)
                    for (logits, _), cams in zip(outputs[1:], teacher_cams)
                ]
        # class-summed CAMs (N, h, w), what CAMIoU compares
        (student_logits, student_cam), *teacher_outputs = [
            (logits, cams.sum(dim=1)) for logits, cams in outputs
        ]
        teacher_logits = torch.stack([logits for logits, _ in teacher_outputs],
                                     dim=1)  # (N, T, K)
        probs = F.softmax(student_logits, dim=1)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(inputs))]
        for index, sample in enumerate(data_samples):
            # the size CAMIoU upsamples the CAMs to
            sample.set_metainfo(
                dict(batch_input_shape=tuple(inputs.shape[-2:])))
            sample.set_pred_score(probs[index]).set_pred_label(
                probs[index].argmax())
            sample.set_field(student_logits[index], 'pred_logits')
            sample.set_field(teacher_logits[index], 'teacher_logits')
            sample.set_field([student_cam[index]] +
                             [cam[index] for _, cam in teacher_outputs],
                             'cams')
        return data_samples
