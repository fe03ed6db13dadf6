"""The views of a training pipeline: enumeration, recording, refusals."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmcatkd.cam_cache.format import num_views, view_index
from mmcatkd.cam_cache.views import (describe_views, pipeline_records_views,
                                     render_views, split_pipeline)

CIFAR = [
    dict(type='ViewRandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'crop_offset', 'flip')),
]


def _draws(pipeline, image, count):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        compose = Compose(pipeline)
    np.random.seed(0)
    return [compose(dict(img=image.copy())) for _ in range(count)]


@pytest.mark.parametrize('flip_first', [False, True])
def test_every_pipeline_draw_is_the_rendered_view_it_records(flip_first):
    """MMPretrain's RandomCrop + MMCV's RandomFlip, run for real, give
    exactly the rendered view at the index of the (crop offset, flip) they
    record, in either order; CIFAR's pipeline has 81 x 2 distinct views."""
    pipeline = [CIFAR[1], CIFAR[0], CIFAR[2]] if flip_first else CIFAR
    image = np.random.default_rng(1).integers(
        1, 256, (32, 32, 3), dtype=np.uint8)
    _, view_steps = split_pipeline(pipeline)
    views = describe_views(view_steps, (32, 32))
    assert num_views(views) == 162
    rendered = render_views(
        torch.from_numpy(image).permute(2, 0, 1)[None], views)[0]
    assert len({view.numpy().tobytes() for view in rendered}) == 162
    seen = set()
    for draw in _draws(pipeline, image, 300):
        meta = draw['data_samples'].metainfo
        index = view_index(views, *meta['crop_offset'], meta['flip'])
        assert torch.equal(draw['inputs'], rendered[index])
        seen.add(index)
    assert len(seen) > 100  # the draws cover most views, not one


def test_view_index_is_a_bijection_onto_the_view_axis():
    views = describe_views(split_pipeline(CIFAR)[1], (32, 32))
    indices = {
        view_index(views, h, w, flip)
        for h in range(9)
        for w in range(9)
        for flip in (False, True)
    }
    assert indices == set(range(162))
    with pytest.raises(ValueError, match='not one of the cached views'):
        view_index(views, 9, 0, False)


def test_flip_probability_one_and_no_crop_give_one_view():
    views = describe_views([dict(type='RandomFlip', prob=1.0)], (8, 8))
    assert num_views(views) == 1 and views['flips'] == [True]


@pytest.mark.parametrize('step, words', [
    (dict(type='RandomResizedCrop', scale=32), 'RandomResizedCrop'),
    (dict(type='ColorJitter', brightness=0.4), 'ColorJitter'),
    (dict(type='mmpretrain.RandAugment'), 'RandAugment'),
    (dict(type='RandomCrop', crop_size=32, padding=4,
          padding_mode='reflect'), 'constant'),
    (dict(type='RandomFlip', prob=0.5, direction='vertical'), 'horizontal'),
])
def test_pipelines_with_other_random_steps_are_refused(step, words):
    """Continuous or unsupported random transforms: one sentence naming
    the step, before any work."""
    with pytest.raises(ValueError, match=words):
        split_pipeline([step, dict(type='PackInputs')])


def test_a_pipeline_that_does_not_record_its_view_is_named():
    plain = [dict(CIFAR[0], type='RandomCrop'), CIFAR[1], CIFAR[2]]
    assert 'ViewRandomCrop' in pipeline_records_views(plain)
    dropped = [CIFAR[0], CIFAR[1], dict(type='PackInputs')]
    assert 'crop_offset' in pipeline_records_views(dropped)
    assert pipeline_records_views(CIFAR) is None
