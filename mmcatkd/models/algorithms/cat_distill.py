"""The CAT-KD training algorithm (CVPR 2023, Eq. 6)."""
from mmrazor.registry import MODELS

from ...utils.errors import ConfigError
from .frozen_teacher_distill import FrozenTeacherDistill


@MODELS.register_module()
class CATDistill(FrozenTeacherDistill):
    """Class Attention Transfer KD (Guo et al., CVPR 2023, Eq. 6).

    "Class Attention Transfer Based Knowledge Distillation",
    https://arxiv.org/abs/2304.12777

    Loss = CE(student) + beta * CAT(CAM_student, CAM_teacher), with the CAMs
    recorded by a :class:`CAMDistiller`. The step is
    :class:`FrozenTeacherDistill`'s: a frozen eval-mode teacher under
    ``torch.no_grad()``, strict ``teacher_ckpt``,
    ``calculate_student_loss=False`` never reading labels (the paper's CAT
    experiments), student and teacher run only as far as their CAMs (their
    backbone) when the CAM recorder is their only recorder, and
    ``channels_last`` for CUDA's fastest convolutions.

    Args:
        distiller (dict): a ``CAMDistiller`` config.
        teacher (dict | BaseModel): the teacher classifier: a model config,
            a built model, or ``dict(cfg_path=...)`` naming a config file
            (local or ``'mmpretrain::...'``), see :func:`resolve_cfg_path`.
        **kwargs: :class:`FrozenTeacherDistill`'s (``architecture``, the
            student, in the same forms as ``teacher``; ``teacher_ckpt``,
            ``teacher_ckpt_strict``, ``calculate_student_loss``,
            ``channels_last``, ``data_preprocessor``, ...).
    """

    def __init__(self, distiller: dict, teacher, **kwargs) -> None:
        if 'teacher_cams' in kwargs:
            raise ConfigError(
                "CATDistill runs the teacher: to read its CAMs from a cache "
                "use type='CachedCATDistill' (tools/train.py CONFIG "
                '--teacher-cams DIR switches a config).')
        super().__init__(distiller=distiller, teacher=teacher, **kwargs)
