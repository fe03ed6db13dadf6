"""CAT-KD with the teacher's CAMs read from a cache instead of computed."""
from typing import Dict, List, Optional

import torch
from mmengine.structures import BaseDataElement
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS

from ..models.algorithms.frozen_teacher_distill import FrozenTeacherDistill
from ..models.cams import classifier_of
from ..models.distillers.cam_distiller import CAM_RECORDER, CAT_LOSS
from ..utils import find_module
from ..utils.errors import ConfigError, MissingHookError
from .format import (CROP_OFFSET_KEY, FLIP_KEY, FLIP_STEP, SAMPLE_IDX_KEY,
                     TOOL, TeacherCAMCache, manifest_differences, view_index)
from .identity import (TEACHER_KEYS, teacher_cam_identity,
                       teacher_input_preprocessor)


def refuse_uncacheable_cat(cat_loss) -> None:
    """Refuse a CAT loss that needs the teacher's full-resolution CAMs
    (``CATLoss.needs_full_teacher_cams``): the cache holds pooled ones."""
    if cat_loss.needs_full_teacher_cams:
        raise ConfigError(
            'binarised and partial (num_selected) CAT need the teacher\'s '
            'full-resolution CAMs, which the cache does not hold: train them '
            'with the online teacher (CATDistill).')


@MODELS.register_module()
class CachedCATDistill(FrozenTeacherDistill):
    """CAT-KD (Guo et al., CVPR 2023, Eq. 6) without the teacher's forward.

    "Class Attention Transfer Based Knowledge Distillation",
    https://arxiv.org/abs/2304.12777

    Loss = CE(student) + beta * CAT(CAM_student, CAM_teacher) as in
    :class:`CATDistill`, but the teacher's r x r pooled CAMs (N, K, r, r)
    are read from a cache (:mod:`.format`, built by :mod:`.builder`), by
    each sample's ``sample_idx`` and view (``crop_offset`` from
    :class:`~.views.ViewRandomCrop`, ``flip`` from ``RandomFlip``) in its
    metainfo. The teacher is never built. The lookup depends on
    nothing but the data sample, so DDP samplers, resuming and AMP need
    nothing special. The step is :class:`FrozenTeacherDistill`'s, with the
    teacher's forward replaced by the lookup (:meth:`record_teachers`); for
    one seed the student starts as :class:`CATDistill`'s does.

    At construction the cache's manifest must match the teacher config and
    checkpoint, the data preprocessor, the CAM source and r; the dataset and
    the pipeline are checked before training by
    :class:`~.hook.TeacherCAMCacheHook`
    (which the step requires).

    Args:
        distiller (dict): a ``CAMDistiller`` config whose teacher records
            only the CAMs and whose CAT loss is neither binarised nor
            partial.
        teacher_cams (str): the cache directory.
        teacher (dict): the teacher config the cache was built from (only
            hashed, never built).
        teacher_ckpt (str): its checkpoint (only hashed).
        calculate_student_loss (bool): add the student's CE.
            Defaults to True.
        channels_last (bool): the student and its inputs in
            ``torch.channels_last``. Defaults to False.
        **kwargs: ``architecture`` (the student), ``data_preprocessor``,
            ``init_cfg``; online-only options (``teacher_ckpt_strict``,
            ``teacher_module_inplace``) are accepted and ignored.
    """

    def __init__(self,
                 distiller: dict,
                 teacher_cams: str,
                 teacher: Dict,
                 teacher_ckpt: Optional[str] = None,
                 calculate_student_loss: bool = True,
                 channels_last: bool = False,
                 **kwargs) -> None:
        kwargs.pop('teacher_ckpt_strict', None)
        kwargs.pop('teacher_module_inplace', None)
        self._init_student(calculate_student_loss, channels_last, kwargs)
        self.distiller = MODELS.build(distiller)
        self.distiller.prepare_from_student(self.student)
        recorder = self._teacher_cam_recorder()
        refuse_uncacheable_cat(self.distiller.distill_losses[CAT_LOSS])
        self.cache = TeacherCAMCache(teacher_cams)
        # Set by TeacherCAMCacheHook once the dataset and pipeline match.
        self.dataset_verified = False
        preprocessor = teacher_input_preprocessor(
            kwargs.get('data_preprocessor'), kwargs['architecture'])
        expected = teacher_cam_identity(teacher, teacher_ckpt, preprocessor,
                                        recorder.source, recorder.head_name,
                                        recorder.output_size)
        differing = manifest_differences(expected, self.cache.manifest,
                                         TEACHER_KEYS)
        if differing:
            raise ConfigError(
                f'the teacher-CAM cache in {teacher_cams} was built for '
                f'another {", ".join(differing)} than this config has: '
                f'rebuild it with {TOOL} for this config.')
        num_classes = classifier_of(
            find_module(self.student, recorder.head_name)).out_features
        if num_classes != self.cache.manifest['num_classes']:
            raise ConfigError(
                f'the student predicts {num_classes} classes and the cached '
                f"teacher CAMs have {self.cache.manifest['num_classes']}: "
                'CAT-KD needs the same classes.')

    def _teacher_cam_recorder(self):
        recorders = self.distiller.teacher_recorders.recorders
        if list(recorders) != [CAM_RECORDER]:
            raise ConfigError(
                'the teacher-CAM cache holds only the teacher\'s CAMs, but the'
                f' distiller records {sorted(set(recorders) - {CAM_RECORDER})}'
                ' of the teacher too: train with the online teacher.')
        return recorders[CAM_RECORDER]

    def teacher_modules(self) -> List[torch.nn.Module]:
        """None: the cache stands for the teacher."""
        return []

    def teacher_cams(self, data_samples: List[BaseDataElement],
                     device: torch.device) -> torch.Tensor:
        """The cached pooled teacher CAMs (N, K, r, r) of a batch, fp32."""
        needed = [SAMPLE_IDX_KEY]
        needed += [CROP_OFFSET_KEY] if self.cache.views['crop'] else []
        needed += [FLIP_KEY] if FLIP_STEP in self.cache.views['order'] else []
        samples, views = [], []
        for sample in data_samples:
            missing = [key for key in needed if key not in sample.metainfo]
            if missing:
                raise ConfigError(
                    f'the data samples lack {missing} in their metainfo: the '
                    "train pipeline must record each sample's view, as "
                    'tools/train.py --teacher-cams makes it do.')
            offset_h, offset_w = sample.metainfo.get(CROP_OFFSET_KEY, (0, 0))
            samples.append(sample.metainfo[SAMPLE_IDX_KEY])
            views.append(
                view_index(self.cache.views, offset_h, offset_w,
                           bool(sample.metainfo.get(FLIP_KEY, False))))
        cams = torch.from_numpy(self.cache.lookup(samples, views))
        return cams.to(device=device, dtype=torch.float32, non_blocking=True)

    def record_teachers(
        self,
        batch_inputs: torch.Tensor,
        data_samples: Optional[List[BaseDataElement]] = None
    ) -> List[ConfigurableDistiller]:
        """The batch's cached teacher CAMs (:meth:`teacher_cams`) into the
        teacher's CAM record, where the online teacher's forward puts its
        own."""
        if not self.dataset_verified:
            raise MissingHookError(
                'the teacher-CAM cache has not been checked against the '
                "training data: add dict(type='TeacherCAMCacheHook') to "
                'custom_hooks.')
        buffer = self.distiller.teacher_recorders.recorders[
            CAM_RECORDER].data_buffer
        buffer.clear()
        buffer.append(self.teacher_cams(data_samples, batch_inputs.device))
        return [self.distiller]
