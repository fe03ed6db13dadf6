"""What the teacher-CAM cache tests share: the tiny digits CAT-KD config,
online and switched to a cache, its algorithms and batches through the real
train pipeline (also used by the CUDA tier)."""
import copy
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from mmrazor.registry import MODELS

from mmcatkd.cam_cache import CacheBuilder, use_teacher_cams
from tests.conftest import TEST_CONFIGS

CONFIG = osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py')


def config_of(ckpt, folder=None, **model):
    """The online config; with ``folder`` switched to that cache."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.teacher_ckpt = ckpt
    cfg.merge_from_dict(dict(model=model))
    return cfg if folder is None else use_teacher_cams(cfg, folder)


def build_test_cache(ckpt, folder, dtype, chunk_images=4, **build):
    """The cache of :func:`config_of` built in ``folder``, silently."""
    builder = CacheBuilder(config_of(ckpt), folder, dtype, chunk_images)
    return builder.build(log=lambda line: None, **build)


def build_algorithm(cfg, **overrides):
    """The model of ``cfg`` (with its data preprocessor), from seed 0."""
    model = copy.deepcopy(cfg.model.to_dict())
    model['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    model.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(model)


def cached_algorithm(ckpt, folder, **overrides):
    """CachedCATDistill on ``folder``, its data taken as checked."""
    model = build_algorithm(config_of(ckpt, folder), **overrides)
    model.dataset_verified = True  # what TeacherCAMCacheHook sets
    return model


def train_batch(cfg, model, seed=0, count=8):
    """A batch through the real train pipeline (random views) of ``cfg``
    switched to a cache (the same images, views recorded)."""
    cfg = use_teacher_cams(copy.deepcopy(cfg), 'unused') if (
        cfg.model.type == 'CATDistill') else cfg
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(cfg.train_dataloader.dataset.to_dict())
        np.random.seed(seed)
        items = [dataset[i] for i in range(count)]
    data = model.data_preprocessor(
        dict(
            inputs=[item['inputs'] for item in items],
            data_samples=[item['data_samples'] for item in items]), True)
    return data['inputs'], data['data_samples']


def losses_and_grads(model, inputs, samples):
    """One training step's losses and the student's gradients."""
    model.train()
    losses = model.loss(inputs, samples)
    sum(losses.values()).backward()
    grads = {
        name: param.grad.clone()
        for name, param in model.student.named_parameters()
    }
    return {k: v.detach() for k, v in losses.items()}, grads


def relative(a, b):
    """max |a - b| relative to max |b|."""
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()
