"""TeacherCAMCacheHook's check: a cache of another dataset or pipeline, or
a pipeline that does not record its views, is refused before training."""
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

from mmcatkd.cam_cache import TeacherCAMCache, check_cache_matches_data
from tests.cam_cache.helpers import config_of


def test_a_cache_of_another_dataset_or_pipeline_is_refused(
        teacher_ckpt, caches):
    cache = TeacherCAMCache(caches['float32'])
    cfg = config_of(teacher_ckpt, caches['float32'])
    pipeline = [dict(step) for step in cfg.train_dataloader.dataset.pipeline]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        same = DATASETS.build(cfg.train_dataloader.dataset.to_dict())
        bigger = DATASETS.build(
            dict(cfg.train_dataloader.dataset.to_dict(), num_per_class=2))
    check_cache_matches_data(cache, same, pipeline)  # passes
    with pytest.raises(ValueError, match='another training set'):
        check_cache_matches_data(cache, bigger, pipeline)
    narrower = [dict(pipeline[0], padding=2)] + pipeline[1:]
    with pytest.raises(ValueError, match='another train pipeline'):
        check_cache_matches_data(cache, same, narrower)
    plain = [dict(pipeline[0], type='RandomCrop')] + pipeline[1:]
    with pytest.raises(ValueError, match='ViewRandomCrop'):
        check_cache_matches_data(cache, same, plain)
