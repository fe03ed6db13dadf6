"""The fixtures of the teacher-CAM cache tests: a seeded teacher's
checkpoint and its caches, built once for the session."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.cam_cache.helpers import CONFIG, build_test_cache


@pytest.fixture(scope='session')
def teacher_ckpt(tmp_path_factory):
    """A seeded teacher (random weights, saved once: the cache needs a
    checkpoint to hash)."""
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(3)
    teacher = MODELS.build(resolve_cfg_path(cfg.model.teacher.to_dict()))
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


@pytest.fixture(scope='session')
def caches(teacher_ckpt, tmp_path_factory):
    """An fp32 and an fp16 cache; the fp16 one built under the default
    scope a Runner leaves behind ('mmpretrain', as in the demo)."""
    folders = {}
    for dtype, scope in (('float32', None), ('float16', 'mmpretrain')):
        folders[dtype] = str(tmp_path_factory.mktemp(dtype) / 'cams')
        with DefaultScope.overwrite_default_scope(scope):
            build_test_cache(teacher_ckpt, folders[dtype], dtype)
    return folders
