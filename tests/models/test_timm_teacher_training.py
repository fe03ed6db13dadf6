"""A CAT-KD run with a timm teacher: trained offline from a local timm
checkpoint through MMEngine's Runner on the embedded digits."""
import copy
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmcatkd.models import logits_and_cams
from tests.conftest import DIGITS_CATKD_CONFIG, PROJECT_ROOT


@pytest.mark.slow
def test_catkd_trains_from_a_local_timm_teacher(tmp_path, monkeypatch):
    """Three iterations of the digits CAT-KD config with a timm ResNet
    teacher (output stride 8: 4x4 CAMs at 32 px) whose weights timm loads
    from a saved file, with the hub offline; the teacher keeps them, and
    its CAMs equal GAP-before-classifier logits within 1e-5 (float64)."""
    import huggingface_hub.constants as hf_constants
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path))
    torch.manual_seed(5)
    saved = timm.create_model('test_resnet', num_classes=10, output_stride=8)
    weights = str(tmp_path / 'test_resnet_digits.pth')
    torch.save(saved.state_dict(), weights)

    cfg = Config.fromfile(
        osp.join(PROJECT_ROOT, 'configs', DIGITS_CATKD_CONFIG))
    cfg.model.teacher = dict(
        cfg_path='timm://test_resnet',
        num_classes=10,
        output_stride=8,
        # num_classes: a 10-class file (timm drops a
        # classifier of another class count)
        pretrained_cfg_overlay=dict(file=weights, num_classes=10))
    cfg.model.teacher_ckpt = None
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg = dict(by_epoch=False, max_iters=3, val_interval=3)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()

    teacher = runner.model.teacher
    assert type(teacher).__name__ == 'TimmImageClassifier'
    trained = teacher.state_dict()
    for key, value in saved.state_dict().items():
        ours = (
            trained['head.' + key]
            if key.startswith('fc.') else trained['backbone.model.' + key])
        assert torch.equal(ours, value), key
    student_before = Runner.from_cfg(copy.deepcopy(cfg)).model.student
    assert any(not torch.equal(a, b)
               for a, b in zip(runner.model.student.state_dict().values(),
                               student_before.state_dict().values()))

    batch = next(iter(runner.train_dataloader))
    inputs = runner.model.data_preprocessor(batch, False)['inputs']
    exact = copy.deepcopy(teacher).double()
    with torch.no_grad():
        logits, cams = logits_and_cams(exact, inputs.double())
    assert cams.shape[2:] == (4, 4)
    gap = cams.mean(dim=(2, 3)) + exact.head.fc.bias
    assert (logits - gap).abs().max() <= 1e-5
