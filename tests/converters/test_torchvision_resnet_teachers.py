"""The ImageNet CAT-KD and KD configs' teachers are the paper's: torchvision's
ResNet-34 / ResNet-50 (IMAGENET1K_V1), named `torchvision://...` and
converted while loading through the safe loader. Torchvision's models are
built with random weights and put where the scheme looks (a temporary torch
hub cache): nothing is downloaded. Property: the loaded teacher gives
torchvision's logits (max abs diff <= 1e-4)."""
import os.path as osp

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.runner.checkpoint import get_torchvision_models

from mmcatkd.converters import build_model
from mmcatkd.models.algorithms import load_teacher_checkpoint
from tests.conftest import PROJECT_ROOT
from tests.tools.test_convert_teacher import calibrate_batch_norms


@pytest.mark.slow
@pytest.mark.parametrize('config, depth', [
    ('catkd_r34_r18_imagenet.py', 34),
    ('kd/kd_logits_resnet34_resnet18_8xb64_in1k.py', 34),
    ('catkd/catkd_resnet50_mobilenet-v1_8xb64_in1k.py', 50),
])
def test_config_teacher_loads_torchvision_weights_with_equal_logits(
        config, depth, tmp_path, monkeypatch):
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, 'configs', config))
    name = cfg.model.teacher_ckpt[len('torchvision://'):]
    assert name == f'resnet{depth}.imagenet1k_v1'
    torch.manual_seed(depth)
    reference = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    calibrate_batch_norms(reference)
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path))
    cached = tmp_path / 'checkpoints' / osp.basename(
        get_torchvision_models()[name])
    cached.parent.mkdir()
    torch.save(reference.state_dict(), cached)

    teacher = build_model(cfg.model.teacher.cfg_path).eval()
    load_teacher_checkpoint(teacher, cfg.model.teacher_ckpt, strict=True)
    # fully convolutional up to global pooling: 64 px exercises every layer
    images = torch.randn(
        2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        difference = (teacher(images, mode='tensor') -
                      reference(images)).abs().max().item()
    assert difference <= 1e-4
