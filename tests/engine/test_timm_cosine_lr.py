"""TimmCosineLR: the learning rate [CLS]-KD trains with epoch by epoch.

The expected values are worked out by hand from timm's CosineLRScheduler
(t_initial=300, lr_min=1e-5, warmup_t=5, warmup_lr_init=1e-6, base lr 5e-4,
warmup_prefix False: the warm-up overrides the cosine's first values, the
cosine is not shifted) and DeiT's loop, which calls step(epoch) after each
epoch, so that epoch e trains at the value for e - 1.
"""
import math

import pytest
import torch
from mmengine.registry import PARAM_SCHEDULERS

import mmcatkd.engine  # noqa: F401  (registers TimmCosineLR)

# epoch -> lr the epoch trains at, by hand
DEIT_LR = {
    0: 1e-6,  # the value set when the scheduler is built
    1: 1e-6,  # step(0): warm-up value for t = 0
    2: 1e-6 + 4.99e-4 / 5,  # t = 1
    5: 1e-6 + 4 * 4.99e-4 / 5,  # t = 4, the last warm-up value
    # t = 5: the cosine at 5/300 of its span, not at its start
    6: 1e-5 + 2.45e-4 * (1 + math.cos(math.pi / 60)),
    151: 1e-5 + 2.45e-4,  # t = 150: half way
    299: 1e-5 + 2.45e-4 * (1 - math.cos(math.pi / 150)),  # t = 298
}


def lrs_per_epoch(epochs: int, **kwargs):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=5e-4)
    scheduler = PARAM_SCHEDULERS.build(
        dict(type='TimmCosineLR', optimizer=optimizer, **kwargs))
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        scheduler.step()  # after the epoch, as ParamSchedulerHook does
    return lrs


def test_epochs_train_at_deit_s_values():
    lrs = lrs_per_epoch(300)
    for epoch, expected in DEIT_LR.items():
        assert lrs[epoch] == pytest.approx(expected, rel=1e-9), epoch


def test_without_the_lag_epoch_e_trains_at_the_value_for_e():
    lrs = lrs_per_epoch(7, lag_one_epoch=False)
    for epoch in (1, 5):
        assert lrs[epoch] == pytest.approx(DEIT_LR[epoch + 1], rel=1e-9)


def test_iteration_steps_are_refused():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    with pytest.raises(ValueError, match='by_epoch=True'):
        PARAM_SCHEDULERS.build(
            dict(type='TimmCosineLR', optimizer=optimizer, by_epoch=False))
