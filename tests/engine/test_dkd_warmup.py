"""DKD's warm-up (Zhao et al., CVPR 2022; MDistiller's DKD.py): the DKD
loss weight is min(epoch / 20, 1) with 1-based epochs. The DKD configs get
it from DistillLossWeightHook writing the loss's own loss_weight."""
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import HOOKS

from tests.conftest import PROJECT_ROOT


def _runner(epoch, loss_weight=1.0):
    loss = SimpleNamespace(loss_weight=loss_weight)
    model = SimpleNamespace(
        distiller=SimpleNamespace(distill_losses={'loss_dkd': loss}))
    return SimpleNamespace(
        model=model,
        epoch=epoch,
        message_hub=MessageHub.get_instance('test_dkd_warmup')), loss


@pytest.mark.parametrize('config', [
    'dkd/dkd_resnet32x4_resnet8x4_1xb64_cifar100.py',
    'dkd/dkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py'
])
def test_dkd_configs_ramp_the_dkd_loss_over_20_epochs(config):
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, 'configs', config))
    hook = HOOKS.build(cfg.custom_hooks[0])
    # MDistiller's epochs 1, 10, 20, 21, 240 are our 0-based 0, 9, 19, ...
    for epoch, expected in ((0, 1 / 20), (9, 10 / 20), (19, 1.0), (20, 1.0),
                            (239, 1.0)):
        runner, loss = _runner(epoch)
        hook.before_train_epoch(runner)
        assert loss.loss_weight == pytest.approx(expected)
    hook.before_train_iter(runner, 0)
    assert runner.message_hub.get_scalar(
        'train/loss_dkd_weight').current() == pytest.approx(1.0)


def test_unknown_loss_name_names_the_losses():
    hook = HOOKS.build(dict(type='DistillLossWeightHook', loss_name='loss_kd'))
    runner, _ = _runner(0)
    with pytest.raises(KeyError, match="loss_dkd"):
        hook.before_train_epoch(runner)
