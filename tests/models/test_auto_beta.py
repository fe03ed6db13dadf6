"""CATLoss(loss_weight='auto'): beta by the authors' rule.

The expected values are computed here from the unweighted CAT loss that a
plain ``CATLoss(loss_weight=1.0)`` gives on the same CAMs, not read back from
the module under test.
"""
import math
import os
import os.path as osp
import shutil
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmcatkd.engine import enable_reliability
from mmcatkd.engine.hooks import CATAutoBetaHook
from mmcatkd.models.losses import CATLoss
from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import TEST_CONFIGS, image_folder  # noqa: F401

CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny.py')


def _cams(seed, scale=1.0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(3, 4, 4, 4, generator=generator)


def test_window_then_fixed_beta_hits_the_target():
    """Over a 4-iteration window the weight is target / running mean of the
    unweighted loss; then beta = target / mean of iterations 3-4, fixed: on
    the window's last batch beta * CAT equals the target's share."""
    target, window = 5.0, 4
    auto = CATLoss(
        loss_weight='auto',
        auto_iters=window,
        auto_target=target,
        normalize=False)
    plain = CATLoss(loss_weight=1.0, normalize=False)
    raw = []
    for step in range(6):
        student, teacher = _cams(step, scale=1 + step), _cams(100 + step)
        raw.append(plain(student, teacher).item())
        weighted = auto(student, teacher).item()
        if step < window:
            running = sum(raw) / len(raw)
            assert weighted == pytest.approx(
                target * raw[-1] / running, rel=1e-6)
        else:
            beta = target / ((raw[2] + raw[3]) / 2)
            assert auto.auto_beta.beta.item() == pytest.approx(beta, rel=1e-9)
            assert weighted == pytest.approx(beta * raw[-1], rel=1e-6)
    # the measured loss times beta is the target, exactly
    assert (auto.auto_beta.beta.item() *
            auto.auto_beta.measured == pytest.approx(target, rel=1e-12))


def test_evaluation_does_not_measure():
    """Forwards in eval mode neither advance nor change the window."""
    auto = CATLoss(loss_weight='auto', auto_iters=2).eval()
    auto(_cams(0), _cams(1))
    assert auto.auto_beta.steps.item() == 0


def test_state_dict_carries_the_chosen_beta():
    """A fresh auto loss loading the state continues with the same beta (a
    resumed run) and counts as chosen."""
    auto = CATLoss(loss_weight='auto', auto_iters=1)
    auto(_cams(0), _cams(1))
    fresh = CATLoss(loss_weight='auto')
    fresh.load_state_dict(auto.state_dict())
    assert fresh.auto_beta.chosen
    assert fresh.auto_beta.beta.item() == auto.auto_beta.beta.item()
    plain = CATLoss(normalize=True)(_cams(2), _cams(3)).item()
    assert fresh(_cams(2), _cams(3)).item() == pytest.approx(
        fresh.auto_beta.beta.item() * plain, rel=1e-6)


def test_resume_mid_window_chooses_the_same_beta():
    """Interrupted after 2 of 4 window steps and restored from its state
    into a fresh loss, the window ends with the uninterrupted beta."""
    batches = [(_cams(i, 1 + i), _cams(50 + i)) for i in range(4)]
    whole = CATLoss(loss_weight='auto', auto_iters=4)
    for batch in batches:
        whole(*batch)
    first = CATLoss(loss_weight='auto', auto_iters=4)
    for batch in batches[:2]:
        first(*batch)
    resumed = CATLoss(loss_weight='auto')
    resumed.load_state_dict(first.state_dict())
    assert not resumed.auto_beta.chosen
    for batch in batches[2:]:
        resumed(*batch)
    assert resumed.auto_beta.beta.item() == whole.auto_beta.beta.item()


def test_fixed_weight_keeps_an_empty_state_dict():
    """A numeric beta adds nothing to checkpoints (old ones load strictly)."""
    assert CATLoss(loss_weight=0.5).state_dict() == {}


@pytest.mark.parametrize('kwargs, match', [
    (dict(loss_weight='automatic'), "or 'auto'"),
    (dict(loss_weight='auto', auto_iters=0), 'auto_iters'),
    (dict(loss_weight='auto', auto_iters=True), 'auto_iters'),
    (dict(loss_weight='auto', auto_target=0), 'auto_target'),
    (dict(loss_weight='auto', auto_target=math.inf), 'auto_target'),
])
def test_bad_auto_options_raise_one_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CATLoss(**kwargs)


def test_window_must_be_known_before_training():
    """Without auto_iters and without the hook, the first step says how to
    give the window."""
    auto = CATLoss(loss_weight='auto')
    with pytest.raises(RuntimeError, match='CATAutoBetaHook'):
        auto(_cams(0), _cams(1))


def _auto_cfg(work_dir, data_root, epochs):
    cfg = Config.fromfile(CATKD)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'auto_beta_{uuid.uuid4().hex[:8]}'
    cfg.model.distiller.cat_loss.loss_weight = 'auto'
    cfg.custom_hooks = [dict(type='CATAutoBetaHook')]
    cfg.train_cfg.max_epochs = epochs
    cfg.randomness = dict(seed=0, deterministic=True)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    # as tools/train.py: the hooks that make a resume exact
    return enable_reliability(cfg)


@pytest.mark.slow
def test_tiny_run_hits_target_logs_and_dumps_beta(
        image_folder,  # noqa: F811
        tmp_path):
    """One epoch of 6 iterations is the window: beta * (mean unweighted CAT
    of iterations 4-6, recomputed by a plain CATLoss from the recorded CAMs)
    is the default target sqrt(50); the run's dumped config carries it as
    loss_weight, and the checkpoint stores it."""
    cfg = _auto_cfg(str(tmp_path), image_folder, epochs=2)
    runner = Runner.from_cfg(cfg)
    loss = runner.model.distiller.distill_losses['loss_cat']
    plain = CATLoss(loss_weight=1.0, normalize=True)
    raw = []  # training steps only (the preflight check runs in eval mode)
    loss.register_forward_hook(
        lambda module, args, kwargs, output: module.training and raw.append(
            plain(kwargs['cams_S'], kwargs['cams_T']).item()),
        with_kwargs=True)
    runner.train()

    assert len(raw) == 12 and loss.auto_beta._window == 6
    beta = loss.auto_beta.beta.item()
    assert beta * sum(raw[3:6]) / 3 == pytest.approx(math.sqrt(50), rel=1e-6)
    dumped = Config.fromfile(osp.join(str(tmp_path), 'catkd_tiny.py'))
    assert dumped.model.distiller.cat_loss.loss_weight == pytest.approx(
        beta, rel=1e-12)
    assert dumped.auto_beta[0]['window'] == 6
    logged = runner.message_hub.get_scalar('train/cat_beta').current()
    assert logged == pytest.approx(beta, rel=1e-12)
    state = safe_torch_load(osp.join(str(tmp_path),
                                     'epoch_2.pth'))['state_dict']
    assert state['distiller.distill_losses.loss_cat.auto_beta.beta'].item(
    ) == beta
    assert any(isinstance(h, CATAutoBetaHook) for h in runner.hooks)


@pytest.mark.slow
def test_resume_keeps_beta_and_repeats_the_run(
        image_folder,  # noqa: F811
        tmp_path):
    """tools/train.py for three epochs, and --resume from its epoch-1
    checkpoint to three: the same beta (chosen in epoch 1, before the
    interruption) and the same final weights bit for bit."""
    from tests.reliability.helpers import (max_weight_difference,
                                           train_in_process)
    config = str(tmp_path / 'catkd_tiny_auto.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{CATKD!r}]\n'
                "model = dict(distiller=dict(cat_loss=dict("
                "loss_weight='auto')))\n"
                "custom_hooks = [dict(type='CATAutoBetaHook')]\n")
    whole, split = str(tmp_path / 'whole'), str(tmp_path / 'split')
    train_in_process(config, whole, image_folder, 'train_cfg.max_epochs=3')
    os.makedirs(split)
    shutil.copy(osp.join(whole, 'epoch_1.pth'), split)
    train_in_process(
        config,
        split,
        image_folder,
        'train_cfg.max_epochs=3',
        resume=osp.join(split, 'epoch_1.pth'))
    key = 'distiller.distill_losses.loss_cat.auto_beta.beta'
    betas = [
        safe_torch_load(osp.join(run, 'epoch_3.pth'))['state_dict'][key]
        for run in (whole, split)
    ]
    assert betas[0].item() > 0 and betas[0].item() == betas[1].item()
    assert max_weight_difference(
        osp.join(whole, 'epoch_3.pth'), osp.join(split, 'epoch_3.pth')) == 0
