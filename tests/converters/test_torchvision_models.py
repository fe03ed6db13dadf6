"""Torchvision ViT weights in MMPretrain's VisionTransformer
(mmcatkd.converters.torchvision_models), and ``torchvision://`` teachers.

Cross-architecture KD (Liu et al., ACCV 2022) distils from torchvision's
``vit_b_16``. The property protected: the converted MMPretrain model computes
the same logits as torchvision's model (max abs diff <= 1e-4). Torchvision's
models are built with random weights; nothing is downloaded.
"""
import os.path as osp

import pytest
import torch
import torchvision
from mmpretrain.registry import MODELS
from torchvision.models.vision_transformer import VisionTransformer

from mmcatkd.converters import UnmappedKeysError, build_model
from mmcatkd.converters.torchvision_models import (
    convert_torchvision_state_dict, convert_torchvision_vit)
from mmcatkd.models.algorithms import load_teacher_checkpoint
from tests.conftest import PROJECT_ROOT

VIT_B_16_CONFIG = osp.join(PROJECT_ROOT, 'configs', '_base_', 'models',
                           'imagenet', 'vit_base_p16.py')


def small_torchvision_vit() -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        mlp_dim=64,
        num_classes=10).eval()


def small_mmpretrain_vit() -> torch.nn.Module:
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(
                type='mmpretrain.VisionTransformer',
                arch=dict(
                    embed_dims=32,
                    num_layers=2,
                    num_heads=2,
                    feedforward_channels=64),
                img_size=32,
                patch_size=8),
            head=dict(
                type='mmpretrain.VisionTransformerClsHead',
                num_classes=10,
                in_channels=32))).eval()


def max_logit_difference(reference: torch.nn.Module, model: torch.nn.Module,
                         images: torch.Tensor) -> float:
    with torch.no_grad():
        return (reference(images) -
                model(images, mode='tensor')).abs().max().item()


def test_small_vit_gives_torchvision_logits():
    reference = small_torchvision_vit()
    model = small_mmpretrain_vit()
    model.load_state_dict(
        convert_torchvision_state_dict(reference.state_dict(),
                                       model.state_dict()),
        strict=True)
    images = torch.randn(
        4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert max_logit_difference(reference, model, images) <= 1e-5


def test_vit_with_a_hidden_head_layer_is_refused():
    torch.manual_seed(0)
    reference = VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=1,
        num_heads=2,
        hidden_dim=32,
        mlp_dim=64,
        num_classes=10,
        representation_size=16)
    with pytest.raises(UnmappedKeysError, match='heads.pre_logits'):
        convert_torchvision_vit(reference.state_dict())


def test_vit_of_another_size_is_refused():
    reference = small_torchvision_vit()
    model = small_mmpretrain_vit()
    state = reference.state_dict()
    state['heads.head.weight'] = state['heads.head.weight'][:5]
    with pytest.raises(UnmappedKeysError, match='head.layers.head'):
        convert_torchvision_state_dict(state, model.state_dict())


@pytest.fixture(scope='module')
def vit_b_16():
    """Torchvision's vit_b_16 with random weights, built once (86 M)."""
    torch.manual_seed(0)
    return torchvision.models.vit_b_16().eval()


@pytest.mark.slow
def test_vit_b_16_loads_from_torchvision_scheme_with_equal_logits(
        vit_b_16, tmp_path, monkeypatch):
    """``teacher_ckpt='torchvision://vit_b_16.imagenet1k_v1'`` (the CAKD
    config's
    teacher) converts while loading: the file that scheme resolves to is put
    in a temporary torch hub cache, so nothing is downloaded."""
    weights = torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path))
    cached = tmp_path / 'checkpoints' / osp.basename(weights.url)
    cached.parent.mkdir()
    torch.save(vit_b_16.state_dict(), cached)
    model = build_model(VIT_B_16_CONFIG).eval()
    load_teacher_checkpoint(
        model, 'torchvision://vit_b_16.imagenet1k_v1', strict=True)
    images = torch.randn(
        2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    assert max_logit_difference(vit_b_16, model, images) <= 1e-4


def test_unknown_torchvision_name_fails_with_the_names_to_use():
    with pytest.raises(ValueError, match='vit_b_16.imagenet1k_v1'):
        load_teacher_checkpoint(small_mmpretrain_vit(),
                                'torchvision://vit_b_16.imagenet1k_v9')
