"""CachedCATDistill against the online CATDistill on the same batches
(losses, gradients, the initial student, the lookup by image and view) and
its refusals."""
import copy

import pytest
import torch

from mmcatkd.cam_cache import CacheBuilder, TeacherCAMCache, use_teacher_cams
from mmcatkd.models.cams import class_activation_maps
from tests.cam_cache.helpers import (build_algorithm, cached_algorithm,
                                     config_of, losses_and_grads, relative,
                                     train_batch)


@pytest.mark.parametrize('dtype, tolerance', [('float32', 1e-6),
                                              ('float16', 2e-3)])
def test_cached_losses_and_gradients_equal_the_online_teachers(
        teacher_ckpt, caches, dtype, tolerance):
    """Same student, same batch (real pipeline, random crops and flips):
    the cached step's CE, CAT loss and every student gradient equal the
    online step's; fp32 within 1e-6 relative, fp16 within its rounding
    (CAMs within 2^-11 relative, the loss within 2e-3)."""
    cfg = config_of(teacher_ckpt)
    online = build_algorithm(cfg)
    cached = cached_algorithm(teacher_ckpt, caches[dtype])
    cached.student.load_state_dict(online.student.state_dict())
    inputs, samples = train_batch(cfg, online)
    assert len({s.metainfo['crop_offset'] for s in samples}) > 1
    assert {s.metainfo['flip'] for s in samples} == {False, True}

    with torch.no_grad():
        feat = online.teacher.backbone(inputs)[-1]
    cams_online = class_activation_maps(feat, online.teacher.head.fc.weight, 2)
    cams_cached = cached.teacher_cams(samples, inputs.device)
    cam_tolerance = 1e-6 if dtype == 'float32' else 2**-11
    assert (cams_cached - cams_online).abs().max() <= (
        cam_tolerance * cams_online.abs().max())

    losses_online, grads_online = losses_and_grads(online, inputs, samples)
    losses_cached, grads_cached = losses_and_grads(cached, inputs, samples)
    assert set(losses_cached) == set(losses_online)
    for key in losses_online:
        assert relative(losses_cached[key], losses_online[key]) <= tolerance
    for name, grad in grads_online.items():
        assert relative(grads_cached[name], grad) <= tolerance, name


def test_one_seed_starts_the_online_and_the_cached_run_alike(
        teacher_ckpt, caches):
    """Building the teacher draws no random numbers: for one seed, the
    online algorithm and the cached one of one config hold identical student
    weights once built and initialised (as the Runner does), and leave the
    generator in one state for what follows (auto beta's window, dropout)."""

    def initial_student(cfg):
        model = build_algorithm(cfg)
        model.init_weights()
        return model.student.state_dict(), torch.get_rng_state()

    online, online_rng = initial_student(config_of(teacher_ckpt))
    cached, cached_rng = initial_student(
        config_of(teacher_ckpt, caches['float32']))
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
    cfg = config_of(teacher_ckpt)
    cached = cached_algorithm(teacher_ckpt, caches['float32'])
    inputs, samples = train_batch(cfg, cached)
    right = cached.loss(inputs, samples)['distill.loss_cat'].item()
    shuffled = copy.deepcopy(samples)
    values = [s.metainfo[field] for s in samples]
    for sample, value in zip(shuffled, values[1:] + values[:1]):
        sample.set_metainfo({field: value})
    if field == 'flip':
        for sample in shuffled:
            sample.set_metainfo({'flip': not sample.metainfo['flip']})
    wrong = cached.loss(inputs, shuffled)['distill.loss_cat'].item()
    assert relative(
        cached.teacher_cams(shuffled, inputs.device),
        cached.teacher_cams(samples, inputs.device)) > 1e-3
    assert abs(wrong - right) > 1e-5 * abs(right)


def test_cached_step_under_autocast_logs_the_fp32_loss_of_its_cams(
        teacher_ckpt, caches):
    """Under bf16 autocast the student's CAMs come out of bf16 convolutions,
    the teacher's come from the cache unchanged, and the logged CAT loss is
    the fp32 loss of exactly those CAMs."""
    cfg = config_of(teacher_ckpt)
    cached = cached_algorithm(teacher_ckpt, caches['float16'])
    inputs, samples = train_batch(cfg, cached)
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


@pytest.mark.slow
def test_a_crop_only_pipeline_needs_no_flip_in_the_metainfo(
        teacher_ckpt, tmp_path):
    """The digits demo's pipeline (crops, no flip: 81 views) records no
    ``flip``; its samples still find their crops' teacher CAMs (within
    fp32 rounding of the teacher's own)."""
    folder = str(tmp_path / 'cams')
    cfg = config_of(teacher_ckpt)
    del cfg.train_dataloader.dataset.pipeline[1]  # the RandomFlip
    CacheBuilder(cfg, folder, 'float32', 4).build(log=lambda line: None)
    online = build_algorithm(cfg)
    cached = build_algorithm(use_teacher_cams(copy.deepcopy(cfg), folder))
    cached.dataset_verified = True
    assert TeacherCAMCache(folder).array.shape[1] == 81
    inputs, samples = train_batch(cfg, online)
    assert all('flip' not in s.metainfo for s in samples)
    with torch.no_grad():
        feat = online.teacher.backbone(inputs)[-1]
    expected = class_activation_maps(feat, online.teacher.head.fc.weight, 2)
    assert relative(cached.teacher_cams(samples, inputs.device),
                    expected) <= 1e-6


@pytest.mark.parametrize(
    'cat_loss',
    [dict(binarize=True), dict(num_selected=3)])
def test_binarised_and_partial_cat_are_refused(teacher_ckpt, caches, tmp_path,
                                               cat_loss):
    distiller = dict(type='CAMDistiller', cat_loss=cat_loss)
    with pytest.raises(ValueError, match='full-resolution'):
        cached_algorithm(teacher_ckpt, caches['float32'], distiller=distiller)
    cfg = config_of(teacher_ckpt)
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
        cached_algorithm(other, caches['float32'])
    distiller = dict(type='CAMDistiller', cat_loss=dict(resolution=1))
    with pytest.raises(ValueError, match='another resolution'):
        cached_algorithm(teacher_ckpt, caches['float32'], distiller=distiller)


def test_catdistill_given_a_cache_names_the_cached_algorithm(
        teacher_ckpt, caches):
    with pytest.raises(ValueError, match="type='CachedCATDistill'"):
        build_algorithm(
            config_of(teacher_ckpt), teacher_cams=caches['float32'])


def test_training_without_the_data_check_is_refused(teacher_ckpt, caches):
    cfg = config_of(teacher_ckpt)
    cached = cached_algorithm(teacher_ckpt, caches['float32'])
    cached.dataset_verified = False
    with pytest.raises(RuntimeError, match='TeacherCAMCacheHook'):
        cached.loss(*train_batch(cfg, cached))
