"""TimmViT: timm's VisionTransformer init on MMPretrain's ViT, checked
against the distributions timm draws from (std and bounds by hand)."""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from mmcatkd.models.weight_init import TimmViTInit
from mmcatkd.utils.errors import ConfigError

#: std of a unit normal truncated to [-2, 2]:
#: sqrt(1 - 2 * 2 * phi(2) / (Phi(2) - Phi(-2))), phi(2) = e^-2 / sqrt(2 pi)
PHI_2 = math.exp(-2) / math.sqrt(2 * math.pi)
MASS_2 = math.erf(2 / math.sqrt(2))
TRUNCATED_UNIT_STD = math.sqrt(1 - 4 * PHI_2 / MASS_2)  # 0.8796...


def _tiny_classifier(init_cfg, backbone_init_cfg=None):
    """DeiT's classifier layout at width 64: MMPretrain's ViT, two blocks,
    its ViT head (which zero-initialises its Linear by its own init_cfg)."""
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='VisionTransformer',
                arch=dict(
                    embed_dims=64,
                    num_layers=2,
                    num_heads=2,
                    feedforward_channels=256),
                img_size=32,
                patch_size=8,
                init_cfg=backbone_init_cfg),
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=10,
                in_channels=64),
            init_cfg=init_cfg))


def test_truncation_bounds_are_absolute_as_in_timm():
    """timm's trunc_normal_(std=s) cuts at -2 and 2 themselves, not at
    2 s: at std 1 the values stay in [-2, 2] with the truncated std
    0.8796 (timm's own constant), at std 0.02 nothing is cut (std 0.02,
    not 0.8796 * 0.02 = 0.0176)."""
    wide, narrow = nn.Linear(1000, 1000), nn.Linear(1000, 1000)
    torch.manual_seed(0)
    TimmViTInit(std=1.0)(wide)
    TimmViTInit()(narrow)
    assert wide.weight.abs().max() <= 2.0
    assert wide.weight.abs().max() > 1.99
    assert wide.weight.std().item() == pytest.approx(
        TRUNCATED_UNIT_STD, rel=0.005)
    assert narrow.weight.std().item() == pytest.approx(0.02, rel=0.005)
    assert not narrow.bias.any()


def test_mmpretrain_vit_gets_timms_init_after_its_own_layers_init():
    """Every Linear (attention, FFN, classifier) N(0, 0.02) with zero bias,
    though MMPretrain's layers re-initialise the FFN (Xavier) and its head
    zeroes the classifier after a parent's init_cfg; LayerNorms 1 / 0;
    class token and position embedding N(0, 0.02); the patch-embedding
    conv untouched (PyTorch's default, as in timm)."""
    model = _tiny_classifier([dict(type='TimmViT')])
    conv_before = model.backbone.patch_embed.projection.weight.clone()
    model.init_weights()

    linears = {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
    }
    # qkv, proj, fc1, fc2 of two blocks and the classifier
    assert len(linears) == 9
    assert 'head.layers.head' in linears
    weights = torch.cat([m.weight.flatten() for m in linears.values()])
    assert weights.std().item() == pytest.approx(0.02, rel=0.01)
    assert weights.mean().abs() < 1e-3
    for name, linear in linears.items():
        # Xavier's std for the 64x256 FFN would be sqrt(2 / 320) = 0.079
        assert linear.weight.std().item() == pytest.approx(0.02, rel=0.1), name
        assert not linear.bias.any(), name
    norms = [m for m in model.modules() if isinstance(m, nn.LayerNorm)]
    assert len(norms) == 5
    for norm in norms:
        assert (norm.weight == 1).all() and not norm.bias.any()
    backbone = model.backbone
    tokens = torch.cat(
        [backbone.cls_token.flatten(),
         backbone.pos_embed.flatten()])
    assert backbone.cls_token.abs().min() > 0  # MMPretrain leaves it zero
    assert tokens.std().item() == pytest.approx(0.02, rel=0.05)
    torch.testing.assert_close(backbone.patch_embed.projection.weight,
                               conv_before)


def test_mmpretrain_init_without_it_differs_where_the_table_says():
    """The switch matters: MMPretrain's DeiT init leaves the FFN Xavier,
    the class token and the classifier at zero."""
    model = _tiny_classifier([
        dict(type='TruncNormal', layer='Linear', std=0.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
    ])
    model.init_weights()
    fc1 = model.backbone.layers[0].ffn.layers[0][0]
    assert fc1.weight.std().item() == pytest.approx(
        math.sqrt(2 / (64 + 256)), rel=0.05)
    assert not model.backbone.cls_token.any()
    assert not model.head.layers.head.weight.any()


def test_a_pretrained_init_below_is_refused():
    model = _tiny_classifier([dict(type='TimmViT')],
                             backbone_init_cfg=dict(
                                 type='Pretrained', checkpoint='vit.pth'))
    with pytest.raises(ConfigError, match='Pretrained init_cfg of backbone'):
        model.init_weights()
