"""CachedCATDistill against the online CATDistill on the same batches, the
cache builder's restart, and the refusals of both."""
import copy
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from mmrazor.registry import MODELS

from mmcatkd.apis.teacher_cam_cache import CacheBuilder, use_teacher_cams
from mmcatkd.engine.hooks import check_cache_matches_data
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from mmcatkd.models.cams import class_activation_maps
from mmcatkd.utils.cam_cache import TeacherCAMCache, chunk_marker
from tests.conftest import TEST_CONFIGS

CONFIG = osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py')


def _config(ckpt, folder=None, **model):
    """The online config; with ``folder`` switched to that cache."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.teacher_ckpt = ckpt
    cfg.merge_from_dict(dict(model=model))
    return cfg if folder is None else use_teacher_cams(cfg, folder)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A seeded teacher (random weights, saved once: the cache needs a
    checkpoint to hash)."""
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(3)
    teacher = MODELS.build(resolve_cfg_path(cfg.model.teacher.to_dict()))
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def _build_cache(ckpt, folder, dtype, chunk_images=4, **build):
    builder = CacheBuilder(_config(ckpt), folder, dtype, chunk_images)
    return builder.build(log=lambda line: None, **build)


@pytest.fixture(scope='module')
def caches(teacher_ckpt, tmp_path_factory):
    """An fp32 and an fp16 cache; the fp16 one built under the default
    scope a Runner leaves behind ('mmpretrain', as in the demo)."""
    folders = {}
    for dtype, scope in (('float32', None), ('float16', 'mmpretrain')):
        folders[dtype] = str(tmp_path_factory.mktemp(dtype) / 'cams')
        with DefaultScope.overwrite_default_scope(scope):
            _build_cache(teacher_ckpt, folders[dtype], dtype)
    return folders


def _model(cfg, **overrides):
    model = copy.deepcopy(cfg.model.to_dict())
    model['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    model.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(model)


def _cached(ckpt, folder, **overrides):
    model = _model(_config(ckpt, folder), **overrides)
    model.dataset_verified = True  # what TeacherCAMCacheHook sets
    return model


def _batch(cfg, model, seed=0, count=8):
    """A batch through the real train pipeline (random views) of ``cfg``
    switched to a cache (the same images, views recorded)."""
    cfg = use_teacher_cams(copy.deepcopy(cfg), 'unused') if (
        cfg.model.type == 'CATDistill') else cfg
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset.to_dict())
        np.random.seed(seed)
        items = [dataset[i] for i in range(count)]
    data = model.data_preprocessor(
        dict(inputs=[item['inputs'] for item in items],
             data_samples=[item['data_samples'] for item in items]), True)
    return data['inputs'], data['data_samples']


def _losses_and_grads(model, inputs, samples):
    model.train()
    losses = model.loss(inputs, samples)
    sum(losses.values()).backward()
    grads = {
        name: param.grad.clone()
        for name, param in model.student.named_parameters()
    }
    return {k: v.detach() for k, v in losses.items()}, grads


def _relative(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


@pytest.mark.parametrize('dtype, tolerance', [('float32', 1e-6),
                                              ('float16', 2e-3)])
def test_cached_losses_and_gradients_equal_the_online_teachers(
        teacher_ckpt, caches, dtype, tolerance):
    """Same student, same batch (real pipeline, random crops and flips):
    the cached step's CE, CAT loss and every student gradient equal the
    online step's; fp32 within 1e-6 relative, fp16 within its rounding
    (CAMs within 2^-11 relative, the loss within 2e-3)."""
    cfg = _config(teacher_ckpt)
    online = _model(cfg)
    cached = _cached(teacher_ckpt, caches[dtype])
    cached.student.load_state_dict(online.student.state_dict())
    inputs, samples = _batch(cfg, online)
    assert len({s.metainfo['crop_offset'] for s in samples}) > 1
    assert {s.metainfo['flip'] for s in samples} == {False, True}

    with torch.no_grad():
        feat = online.teacher.backbone(inputs)[-1]
    cams_online = class_activation_maps(
        feat, online.teacher.head.fc.weight, 2)
    cams_cached = cached.teacher_cams(samples, inputs.device)
    cam_tolerance = 1e-6 if dtype == 'float32' else 2**-11
    assert (cams_cached - cams_online).abs().max() <= (
        cam_tolerance * cams_online.abs().max())

    losses_online, grads_online = _losses_and_grads(online, inputs, samples)
    losses_cached, grads_cached = _losses_and_grads(cached, inputs, samples)
    assert set(losses_cached) == set(losses_online)
    for key in losses_online:
        assert _relative(losses_cached[key], losses_online[key]) <= tolerance
    for name, grad in grads_online.items():
        assert _relative(grads_cached[name], grad) <= tolerance, name


def test_one_seed_starts_the_online_and_the_cached_run_alike(
        teacher_ckpt, caches):
    """Building the teacher draws no random numbers: for one seed, the
    online algorithm and the cached one of one config hold identical student
    weights once built and initialised (as the Runner does), and leave the
    generator in one state for what follows (auto beta's window, dropout)."""

    def initial_student(cfg):
        model = _model(cfg)
        model.init_weights()
        return model.student.state_dict(), torch.get_rng_state()

    online, online_rng = initial_student(_config(teacher_ckpt))
    cached, cached_rng = initial_student(
        _config(teacher_ckpt, caches['float32']))
    assert list(cached) == list(online)
    for name, tensor in online.items():
        assert torch.equal(cached[name], tensor), name
    assert torch.equal(cached_rng, online_rng)


@pytest.mark.parametrize('field', ['flip', 'crop_offset', 'sample_idx'])
def test_a_shuffled_view_or_image_index_changes_the_loss(
        teacher_ckpt, caches, field):
    """Looking up another view (flip or offset) or another image than the
    one the student sees gives other teacher CAMs (far beyond the 1e-6 of
    the equality test) and another CAT loss (beyond float rounding): the
    lookup is by image and view."""
    cfg = _config(teacher_ckpt)
    cached = _cached(teacher_ckpt, caches['float32'])
    inputs, samples = _batch(cfg, cached)
    right = cached.loss(inputs, samples)['distill.loss_cat'].item()
    shuffled = copy.deepcopy(samples)
    values = [s.metainfo[field] for s in samples]
    for sample, value in zip(shuffled, values[1:] + values[:1]):
        sample.set_metainfo({field: value})
    if field == 'flip':
        for sample in shuffled:
            sample.set_metainfo({'flip': not sample.metainfo['flip']})
    wrong = cached.loss(inputs, shuffled)['distill.loss_cat'].item()
    assert _relative(cached.teacher_cams(shuffled, inputs.device),
                     cached.teacher_cams(samples, inputs.device)) > 1e-3
    assert abs(wrong - right) > 1e-5 * abs(right)


def test_cached_step_under_autocast_logs_the_fp32_loss_of_its_cams(
        teacher_ckpt, caches):
    """Under bf16 autocast the student's CAMs come out of bf16 convolutions,
    the teacher's come from the cache unchanged, and the logged CAT loss is
    the fp32 loss of exactly those CAMs."""
    cfg = _config(teacher_ckpt)
    cached = _cached(teacher_ckpt, caches['float16'])
    inputs, samples = _batch(cfg, cached)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logged = cached.loss(inputs, samples)['distill.loss_cat']
    recorders = cached.distiller
    cams_S = recorders.student_recorders.recorders['cam'].get_record_data()
    cams_T = recorders.teacher_recorders.recorders['cam'].get_record_data()
    assert cams_S.dtype == torch.bfloat16 and cams_T.dtype == torch.float32
    assert torch.equal(cams_T, cached.teacher_cams(samples, inputs.device))
    reference = cached.distiller.distill_losses['loss_cat'](cams_S.float(),
                                                           cams_T)
    assert logged.dtype == torch.float32
    torch.testing.assert_close(logged, reference, rtol=1e-6, atol=1e-7)


def test_a_killed_build_redoes_only_unfinished_chunks(teacher_ckpt, caches,
                                                      tmp_path):
    """A build stopped after one chunk, with garbage in the rows of a chunk
    it was writing (no marker), is refused for training; the rerun does the
    remaining chunks only and the result equals an uninterrupted build."""
    folder = str(tmp_path / 'cams')
    first = _build_cache(teacher_ckpt, folder, 'float32', max_chunks=1)
    assert first['chunks'] == 1 and not first['complete']
    with pytest.raises(ValueError, match='unfinished .1 of 3 chunks'):
        TeacherCAMCache(folder)
    array = np.load(osp.join(folder, 'cams.npy'), mmap_mode='r+')
    array[4:6] = 1e4  # a half-written second chunk
    array.flush()
    del array
    assert not osp.exists(chunk_marker(folder, 1))
    marker_time = os.stat(chunk_marker(folder, 0)).st_mtime_ns
    second = _build_cache(teacher_ckpt, folder, 'float32')
    assert second['chunks'] == 2 and second['complete']
    assert os.stat(chunk_marker(folder, 0)).st_mtime_ns == marker_time
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


def _copy_cache(source, tmp_path):
    folder = str(tmp_path / 'cams')
    shutil.copytree(source, folder)
    return folder


@pytest.mark.parametrize('damage', ['truncated', 'deleted'])
def test_a_rerun_rebuilds_a_truncated_or_deleted_array(
        teacher_ckpt, caches, tmp_path, damage):
    """A complete cache whose cams.npy lost its end or was deleted: training
    refuses it with the sentence to rerun the tool (it was a bare numpy
    error), and the rerun redoes every chunk (it said "0 chunks to do,
    cache complete") and gives the uninterrupted build's array."""
    folder = _copy_cache(caches['float32'], tmp_path)
    path = osp.join(folder, 'cams.npy')
    if damage == 'truncated':
        os.truncate(path, os.path.getsize(path) - 100)
        problem = 'has [0-9]+ bytes instead of [0-9]+ .truncated'
    else:
        os.remove(path)
        problem = 'is missing'
    with pytest.raises(ValueError) as info:
        TeacherCAMCache(folder)
    assert re.search(
        f'the teacher-CAM cache in {folder} is damaged: {path} {problem}',
        str(info.value))
    assert str(info.value).endswith(
        'run tools/cache_teacher_cams.py again with the same arguments, '
        'which checks every chunk and rebuilds what is missing or corrupt.')
    lines = []
    builder = CacheBuilder(_config(teacher_ckpt), folder, 'float32', 4)
    summary = builder.build(log=lines.append)
    assert summary['chunks'] == 3 and summary['complete']
    assert lines[0].startswith(f'rank 0: {path} ') and lines[0].endswith(
        ': creating it again and redoing every chunk')
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


def test_a_rerun_redoes_chunks_whose_rows_changed(teacher_ckpt, caches,
                                                 tmp_path):
    """One flipped byte in the rows of chunk 1 and a marker without a
    checksum (chunk 2): the rerun redoes those two chunks only and the
    array equals the uninterrupted build's again."""
    folder = _copy_cache(caches['float32'], tmp_path)
    offset = np.load(osp.join(folder, 'cams.npy'), mmap_mode='r').offset
    row_bytes = TeacherCAMCache(folder).array[0].nbytes
    with open(osp.join(folder, 'cams.npy'), 'r+b') as file:
        file.seek(offset + 5 * row_bytes + 7)  # image 5: chunk 1
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    with open(chunk_marker(folder, 2), 'wb'):
        pass  # a marker that holds no checksum
    marker_time = os.stat(chunk_marker(folder, 0)).st_mtime_ns
    assert not np.array_equal(TeacherCAMCache(folder).array,
                              TeacherCAMCache(caches['float32']).array)
    lines = []
    summary = CacheBuilder(_config(teacher_ckpt), folder, 'float32',
                           4).build(log=lines.append)
    assert summary['chunks'] == 2 and summary['complete']
    assert lines[0] == ('rank 0: chunks 1, 2 differ from the checksums of '
                        'their markers: redoing them')
    assert os.stat(chunk_marker(folder, 0)).st_mtime_ns == marker_time
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


@pytest.mark.slow
def test_shards_together_build_the_whole_cache(teacher_ckpt, caches,
                                               tmp_path):
    """Two processes' shares (every 2nd chunk each) make the same cache."""
    folder = str(tmp_path / 'cams')
    first = _build_cache(teacher_ckpt, folder, 'float32', rank=0,
                         world_size=2)
    second = _build_cache(teacher_ckpt, folder, 'float32', rank=1,
                          world_size=2)
    assert (first['chunks'], second['chunks']) == (2, 1)
    assert not first['complete'] and second['complete']
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


@pytest.mark.slow
def test_a_crop_only_pipeline_needs_no_flip_in_the_metainfo(
        teacher_ckpt, tmp_path):
    """The digits demo's pipeline (crops, no flip: 81 views) records no
    ``flip``; its samples still find their crops' teacher CAMs (within
    fp32 rounding of the teacher's own)."""
    folder = str(tmp_path / 'cams')
    cfg = _config(teacher_ckpt)
    del cfg.train_dataloader.dataset.pipeline[1]  # the RandomFlip
    CacheBuilder(cfg, folder, 'float32', 4).build(log=lambda line: None)
    online = _model(cfg)
    cached = _model(use_teacher_cams(copy.deepcopy(cfg), folder))
    cached.dataset_verified = True
    assert TeacherCAMCache(folder).array.shape[1] == 81
    inputs, samples = _batch(cfg, online)
    assert all('flip' not in s.metainfo for s in samples)
    with torch.no_grad():
        feat = online.teacher.backbone(inputs)[-1]
    expected = class_activation_maps(feat, online.teacher.head.fc.weight, 2)
    assert _relative(cached.teacher_cams(samples, inputs.device),
                     expected) <= 1e-6


# --- refusals ---------------------------------------------------------


@pytest.mark.parametrize('cat_loss', [dict(binarize=True),
                                      dict(num_selected=3)])
def test_binarised_and_partial_cat_are_refused(teacher_ckpt, caches,
                                               tmp_path, cat_loss):
    distiller = dict(type='CAMDistiller', cat_loss=cat_loss)
    with pytest.raises(ValueError, match='full-resolution'):
        _cached(teacher_ckpt, caches['float32'], distiller=distiller)
    cfg = _config(teacher_ckpt)
    cfg.model.distiller.cat_loss.update(cat_loss)
    with pytest.raises(ValueError, match='full-resolution'):
        CacheBuilder(cfg, str(tmp_path / 'cams'))


def test_a_cache_of_another_teacher_or_resolution_is_refused(
        teacher_ckpt, caches, tmp_path):
    other = str(tmp_path / 'other.pth')
    state = torch.load(teacher_ckpt, weights_only=True)
    state['state_dict']['head.fc.bias'] += 1
    torch.save(state, other)
    with pytest.raises(ValueError, match='another teacher'):
        _cached(other, caches['float32'])
    distiller = dict(type='CAMDistiller', cat_loss=dict(resolution=1))
    with pytest.raises(ValueError, match='another resolution'):
        _cached(teacher_ckpt, caches['float32'], distiller=distiller)


def test_a_cache_of_another_dataset_or_pipeline_is_refused(
        teacher_ckpt, caches):
    cache = TeacherCAMCache(caches['float32'])
    cfg = _config(teacher_ckpt, caches['float32'])
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


def test_catdistill_given_a_cache_names_the_cached_algorithm(
        teacher_ckpt, caches):
    with pytest.raises(ValueError, match="type='CachedCATDistill'"):
        _model(_config(teacher_ckpt), teacher_cams=caches['float32'])


def test_training_without_the_data_check_is_refused(teacher_ckpt, caches):
    cfg = _config(teacher_ckpt)
    cached = _cached(teacher_ckpt, caches['float32'])
    cached.dataset_verified = False
    with pytest.raises(RuntimeError, match='TeacherCAMCacheHook'):
        cached.loss(*_batch(cfg, cached))


@pytest.mark.slow
def test_out_holding_another_cache_and_a_full_disk_are_refused(
        teacher_ckpt, caches, monkeypatch, tmp_path):
    cfg = _config(teacher_ckpt)
    cfg.train_dataloader.dataset.num_per_class = 2
    with pytest.raises(ValueError, match='holds a teacher-CAM cache'):
        CacheBuilder(cfg, caches['float32'], 'float32',
                     4).build(log=lambda line: None)
    import shutil
    monkeypatch.setattr(shutil, 'disk_usage',
                        lambda path: shutil._ntuple_diskusage(1, 1, 1000))
    with pytest.raises(OSError, match='needs 0.00 GiB and .* has'):
        _build_cache(teacher_ckpt, str(tmp_path / 'cams'), 'float32')
    assert not osp.exists(tmp_path / 'cams' / 'cams.npy')


def test_a_pipeline_with_a_continuous_random_transform_is_refused(
        teacher_ckpt, tmp_path):
    cfg = _config(teacher_ckpt)
    cfg.train_dataloader.dataset.pipeline.insert(
        0, dict(type='ColorJitter', brightness=0.4))
    with pytest.raises(ValueError, match='ColorJitter.*online teacher'):
        CacheBuilder(cfg, str(tmp_path / 'cams'))
