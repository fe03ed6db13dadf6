"""The CAT-KD training algorithm (CVPR 2023, Eq. 6)."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.registry import MODELS

from .frozen_teacher_distill import FrozenTeacherDistill


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

    - student and teacher run only as far as their CAMs (their backbone)
      when the CAM recorder is their only recorder;
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
        if 'teacher_cams' in kwargs:
            raise ValueError(
                "CATDistill runs the teacher: to read its CAMs from a cache "
                "use type='CachedCATDistill' (tools/train.py CONFIG "
                '--teacher-cams DIR switches a config).')
        super().__init__(distiller=distiller, teacher=teacher, **kwargs)
        self.channels_last = channels_last
        if channels_last:
            # Converted once here: weight initialisation, checkpoint loading
            # and .to(device) all write in place and keep the format, and the
            # optimizer is built after the model.
            self.student.to(memory_format=torch.channels_last)
            self.teacher.to(memory_format=torch.channels_last)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """As ``SingleTeacherDistill``; with ``channels_last`` the batch is
        converted first, so every mode (loss, predict, tensor) gets it."""
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().forward(inputs, data_samples, mode)
