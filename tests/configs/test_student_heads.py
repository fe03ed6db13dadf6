"""The classifiers the shipped configs build are the authors': CAT-KD
students the bias-free conv_test with their family's init, baselines and
teachers MDistiller's nn.Linear (CAT-KD, Guo et al., CVPR 2023; MDistiller).

Only the heads are built (from the resolved model configs), so the
ImageNet cases cost no full-size model."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import PROJECT_ROOT


def _student_head(config: str) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, 'configs', config))
    model = cfg.model.to_dict()
    head_cfg = resolve_cfg_path(model.get('architecture', model))['head']
    torch.manual_seed(0)
    head = MODELS.build(head_cfg)
    head.init_weights()
    return head


def _fraction_beyond(weight: torch.Tensor, bound: float) -> float:
    return (weight.abs() > bound).float().mean().item()


# config, classes K, channels C
FAN_OUT = [
    ('catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py', 100, 256),
    ('catkd/catkd_wrn-40-2_wrn-16-2_1xb64_cifar100.py', 100, 128),
    ('catkd/catkd_resnet50_mobilenet-v2_1xb64_cifar100.py', 100, 1280),
    ('cat/cat_resnet32x4_resnet32x4_1xb64_cifar100.py', 100, 256),
    ('catkd_r34_r18_imagenet.py', 1000, 512),
    ('catkd/catkd_timm-resnet50-a1_resnet18_8xb64_in1k.py', 1000, 512),
]
TORCH_DEFAULT = [
    ('catkd/catkd_vgg13_vgg8_1xb64_cifar100.py', 100, 512),
    ('catkd/catkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py', 100, 960),
    ('catkd/catkd_resnet32x4_shufflenet-v2_1xb64_cifar100.py', 100, 1024),
    ('catkd/catkd_resnet50_mobilenet-v1_8xb64_in1k.py', 1000, 1024),
]
BASELINES = [
    ('kd/kd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py', 100, 256),
    ('dkd/dkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py', 100, 960),
    ('kd/kd_logits_resnet34_resnet18_8xb64_in1k.py', 1000, 512),
    ('vanilla/resnet32x4_1xb64_cifar100.py', 100, 256),
]


@pytest.mark.parametrize('config, classes, channels', FAN_OUT)
def test_resnet_wrn_mobilenetv2_students_get_kaiming_fan_out(
        config, classes, channels):
    """kaiming_normal_(fan_out, relu) on the (K, C) weight: N(0, sqrt(2/K))
    (0.141 for 100 classes, 0.0447 for 1000), no bias. Normal, not
    uniform: ~4.6% of the weights lie beyond 2 sigma (a uniform law with
    that std has none)."""
    head = _student_head(config)
    weight = head.fc.weight.detach()
    sigma = math.sqrt(2 / classes)
    assert weight.shape == (classes, channels) and head.fc.bias is None
    assert abs(weight.std().item() / sigma - 1) < 0.03
    assert abs(weight.mean().item()) < 0.03 * sigma
    assert 0.035 < _fraction_beyond(weight, 2 * sigma) < 0.057


@pytest.mark.parametrize('config, classes, channels', TORCH_DEFAULT)
def test_vgg_shufflenet_mobilenetv1_students_get_torch_default(
        config, classes, channels):
    """PyTorch's default Conv2d init: U(+-1/sqrt(C)), std 1/sqrt(3C), no
    bias."""
    head = _student_head(config)
    weight = head.fc.weight.detach()
    bound = 1 / math.sqrt(channels)
    assert weight.shape == (classes, channels) and head.fc.bias is None
    assert weight.abs().max().item() <= bound
    assert abs(weight.std().item() * math.sqrt(3) / bound - 1) < 0.03
    # uniform: a tenth of the weights in the outer tenth of the range
    assert 0.09 < _fraction_beyond(weight, 0.9 * bound) < 0.11


@pytest.mark.parametrize('config, classes, channels', BASELINES)
def test_baselines_and_teachers_get_mdistillers_linear(config, classes,
                                                       channels):
    """nn.Linear's default init: weight and bias U(+-1/sqrt(C))."""
    head = _student_head(config)
    weight, bias = head.fc.weight.detach(), head.fc.bias.detach()
    bound = 1 / math.sqrt(channels)
    assert weight.abs().max().item() <= bound
    assert abs(weight.std().item() * math.sqrt(3) / bound - 1) < 0.03
    assert bias.shape == (classes, ) and bias.abs().max().item() <= bound
    assert bias.abs().max().item() > 0.8 * bound  # not zero, not N(0, 0.01)
