"""CAT-KD with the teacher's CAMs read from a cache instead of computed."""
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.structures import BaseDataElement
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS

from ...utils.cam_cache import (TeacherCAMCache, canonical_hash, file_hash,
                                manifest_differences, view_index)
from ...utils import find_module
from ...utils.errors import ConfigError, MissingHookError
from ..cams import classifier_of
from ..distillers.cam_distiller import CAM_RECORDER, CAT_LOSS
from .frozen_teacher_distill import FrozenTeacherDistill
from .model_cfg import resolve_cfg_path

# What the model side checks against the manifest (the engine's
# TeacherCAMCacheHook checks the dataset and the pipeline).
TEACHER_KEYS = ('teacher', 'data_preprocessor_sha256', 'cam_source',
                'cam_head', 'resolution')


def teacher_cam_identity(teacher, teacher_ckpt: Optional[str],
                         data_preprocessor, cam_source: str, cam_head: str,
                         resolution: int) -> Dict:
    """What the cached teacher CAMs depend on besides the images: the
    teacher's config (content, after ``cfg_path`` is read) and checkpoint,
    the data preprocessor (normalisation), where the CAMs are taken and r.

    Raises:
        ValueError: no ``teacher_ckpt`` (a random teacher's CAMs change
            with the seed, so caching them is meaningless).
    """
    if not teacher_ckpt:
        raise ConfigError(
            'caching teacher CAMs needs the trained teacher: set '
            'model.teacher_ckpt to its checkpoint.')
    if '://' in teacher_ckpt:
        raise ConfigError(
            f'teacher_ckpt {teacher_ckpt} is a URL: the teacher-CAM cache '
            'hashes the checkpoint, so download it and give its path.')
    if not osp.isfile(teacher_ckpt):
        raise FileNotFoundError(
            f'teacher_ckpt {teacher_ckpt} does not exist: train the teacher '
            'first (configs/vanilla/) or convert one with '
            'tools/convert_teacher.py.')
    return dict(
        teacher=dict(
            config_sha256=canonical_hash(resolve_cfg_path(teacher)),
            # the content, not the name: a moved checkpoint still matches
            checkpoint_sha256=file_hash(teacher_ckpt)),
        data_preprocessor_sha256=canonical_hash(data_preprocessor),
        cam_source=cam_source,
        cam_head=cam_head,
        resolution=resolution)


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
    are read from a cache built by ``tools/cache_teacher_cams.py``, by each
    sample's ``sample_idx`` and view (``crop_offset`` from
    :class:`~mmcatkd.datasets.ViewRandomCrop`, ``flip`` from ``RandomFlip``)
    in its metainfo. The teacher is never built. The lookup depends on
    nothing but the data sample, so DDP samplers, resuming and AMP need
    nothing special. The step is :class:`FrozenTeacherDistill`'s, with the
    teacher's forward replaced by the lookup (:meth:`record_teachers`); for
    one seed the student starts as :class:`CATDistill`'s does.

    At construction the cache's manifest must match the teacher config and
    checkpoint, the data preprocessor, the CAM source and r; the dataset and
    the pipeline are checked before training by ``TeacherCAMCacheHook``
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
        preprocessor = kwargs.get('data_preprocessor')
        if preprocessor is None:
            preprocessor = resolve_cfg_path(
                kwargs['architecture']).get('data_preprocessor')
        expected = teacher_cam_identity(teacher, teacher_ckpt, preprocessor,
                                        recorder.source, recorder.head_name,
                                        recorder.output_size)
        differing = manifest_differences(expected, self.cache.manifest,
                                         TEACHER_KEYS)
        if differing:
            raise ConfigError(
                f'the teacher-CAM cache in {teacher_cams} was built for '
                f'another {", ".join(differing)} than this config has: '
                'rebuild it with tools/cache_teacher_cams.py for this config.')
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
        needed = ['sample_idx']
        needed += ['crop_offset'] if self.cache.views['crop'] else []
        needed += ['flip'] if 'flip' in self.cache.views['order'] else []
        samples, views = [], []
        for sample in data_samples:
            missing = [key for key in needed if key not in sample.metainfo]
            if missing:
                raise ConfigError(
                    f'the data samples lack {missing} in their metainfo: use '
                    "ViewRandomCrop instead of RandomCrop and PackInputs(meta_"
                    f"keys=(..., {', '.join(map(repr, needed))})) in the "
                    'train pipeline (tools/train.py --teacher-cams does).')
            offset_h, offset_w = sample.metainfo.get('crop_offset', (0, 0))
            samples.append(sample.metainfo['sample_idx'])
            views.append(
                view_index(self.cache.views, offset_h, offset_w,
                           bool(sample.metainfo.get('flip', False))))
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
