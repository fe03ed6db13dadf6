"""The CAT-KD training algorithm (CVPR 2023, Eq. 6)."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.registry import MODELS

from ..recorders import classifier_of, find_module
from .frozen_teacher_distill import (FrozenTeacherDistill,
                                     load_teacher_checkpoint,
                                     teacher_state_dict)

__all__ = [
    'CATDistill', 'load_teacher_checkpoint', 'run_to_records',
    'teacher_state_dict'
]


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
class CATDistill(FrozenTeacherDistill):
    """Class Attention Transfer KD (Guo et al., CVPR 2023, Eq. 6).

    "Class Attention Transfer Based Knowledge Distillation",
    https://arxiv.org/abs/2304.12777

    Loss = CE(student) + beta * CAT(CAM_student, CAM_teacher), with the CAMs
    recorded by a :class:`CAMDistiller`. As :class:`FrozenTeacherDistill`
    (frozen eval-mode teacher under ``torch.no_grad()``, strict
    ``teacher_ckpt``, ``calculate_student_loss=False`` never reading labels:
    the paper's CAT experiments), and:

    - the teacher runs only as far as its CAMs (its backbone) unless other
      teacher recorders need its head;
    - student and teacher class counts are checked through the classifiers
      the CAMs come from;
    - ``channels_last`` is available for CUDA's fastest convolutions.

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
                 channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(distiller=distiller, teacher=teacher, **kwargs)
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

    def _forward_for_records(self, role: str,
                             batch_inputs: torch.Tensor) -> None:
        """Run the student or teacher only through its backbone when the CAM
        recorder is its only recorder; its whole forward otherwise."""
        run_to_records(
            getattr(self, role), self.distiller.records_only_cams[role],
            batch_inputs)
