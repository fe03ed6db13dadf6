"""The teacher-CAM cache: CAT-KD's teacher CAMs computed once, looked up.

CAT-KD (Guo et al., CVPR 2023, Eq. 5) needs from the frozen teacher only its
CAMs pooled to r x r. For a train pipeline with finitely many views (CIFAR:
81 crop offsets x 2 flips) they are computed once per view and looked up by
(image, view) during training, exactly. Read in this order:

- :mod:`.format`: the directory (``manifest.json``, ``cams.npy``, chunk
  markers with the checksums of their rows), the view index and the
  reader, ``TeacherCAMCache``;
- :mod:`.identity`: what the cached CAMs depend on besides the images (the
  teacher's config and checkpoint, preprocessor, CAM source, r);
- :mod:`.views`: which pipelines have finitely many views, rendering them,
  ``ViewRandomCrop`` (MMPretrain ``TRANSFORMS``), the dataset fingerprint;
- :mod:`.algorithm`: ``CachedCATDistill`` (MMRazor ``MODELS``), the step of
  ``FrozenTeacherDistill`` with the teacher's CAMs looked up;
- :mod:`.hook`: ``TeacherCAMCacheHook`` (MMEngine ``HOOKS``), the check of
  the cache against the run's data before training;
- :mod:`.builder`: ``CacheBuilder``, every view of every image through the
  teacher in chunks (restarts, shards, checks of what is on disk);
- :mod:`.commands`: what the command lines run, :func:`build_cache`
  (``tools/cache_teacher_cams.py``) and :func:`use_teacher_cams`
  (``tools/train.py --teacher-cams DIR``).

Layers: ``format``, ``identity``, ``views`` and ``algorithm`` are what
``models`` and ``datasets`` would hold (they import only ``utils``,
``models``, ``datasets``, ``format`` and ``identity``); ``hook``,
``builder`` and ``commands`` sit with ``engine`` and ``apis``. Nothing in
``models``, ``datasets`` or below imports this package
(``tests/test_layers.py``). Importing it registers the algorithm, the
transform and the hook.
"""
from .algorithm import CachedCATDistill, refuse_uncacheable_cat
from .builder import CacheBuilder
from .commands import build_cache, use_teacher_cams
from .format import TeacherCAMCache
from .hook import TeacherCAMCacheHook, check_cache_matches_data
from .identity import teacher_cam_identity
from .views import ViewRandomCrop

__all__ = [
    'CachedCATDistill', 'refuse_uncacheable_cat', 'CacheBuilder',
    'build_cache', 'TeacherCAMCache', 'teacher_cam_identity',
    'TeacherCAMCacheHook', 'check_cache_matches_data', 'use_teacher_cams',
    'ViewRandomCrop'
]
