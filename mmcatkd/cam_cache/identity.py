"""What cached teacher CAMs depend on besides the images: the teacher.

The manifest of a cache (:mod:`.format`) records the teacher's config and
checkpoint (their sha256: a moved checkpoint still matches), the data
preprocessor its inputs pass through, where its CAMs are taken and their
resolution r (CAT-KD, Guo et al., CVPR 2023, Eq. 5). The builder writes
this identity and the cached algorithm compares its own config with it.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, Optional

from ..models.algorithms.model_cfg import (default_cls_preprocessor,
                                           resolve_cfg_path)
from ..utils.errors import ConfigError

#: the manifest keys that say which teacher computed the CAMs, and how
#: (what the cached algorithm checks at construction; the dataset and the
#: pipeline are checked against the data before training)
TEACHER_KEYS = ('teacher', 'data_preprocessor_sha256', 'cam_source',
                'cam_head', 'resolution')


def canonical_hash(obj: Any) -> str:
    """sha256 of ``obj`` as sorted-key JSON (configs, pipelines)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(path: str, block: int = 1 << 20) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for data in iter(lambda: file.read(block), b''):
            digest.update(data)
    return digest.hexdigest()


def teacher_cam_identity(teacher, teacher_ckpt: Optional[str],
                         data_preprocessor, cam_source: str, cam_head: str,
                         resolution: int) -> Dict:
    """What the cached teacher CAMs depend on besides the images: the
    teacher's config (content, after ``cfg_path`` is read) and checkpoint,
    the data preprocessor (normalisation), where the CAMs are taken and r;
    the manifest's :data:`TEACHER_KEYS`.

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


def teacher_input_preprocessor(data_preprocessor, architecture) -> Any:
    """The data preprocessor the teacher's inputs pass through, as the
    algorithm builds it: its own (a dict without ``type`` is MMPretrain's
    ``ClsDataPreprocessor``), else the one of the student's config."""
    preprocessor = default_cls_preprocessor(data_preprocessor)
    if preprocessor is None:
        preprocessor = resolve_cfg_path(architecture).get('data_preprocessor')
    return preprocessor
