"""A NaN/Inf loss or weight stops training with a
message naming it, and no checkpoint of the broken state is written."""
import os
import os.path as osp

import pytest

from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import (CATKD, config_with_hooks, fingerprint,
                                       read_last_checkpoint, train_in_process)


def _resume_with_poison(work_dir, data_root, directory, **poison):
    config = config_with_hooks(directory, CATKD,
                               dict(type='PoisonWeightsHook', **poison))
    with pytest.raises(SystemExit):
        train_in_process(
            config,
            work_dir,
            data_root,
            'train_cfg.max_epochs=2',
            resume='auto')


@pytest.mark.slow
@pytest.mark.parametrize('when', ['before', 'after'])
def test_non_finite_state_stops_before_any_checkpoint(when, catkd_run,
                                                      image_folder, tmp_path,
                                                      capsys):  # noqa: F811
    """A NaN weight before iteration 8 (its loss is NaN) or after the last
    step of epoch 2 (every loss was finite, the weights to save are not):
    training stops with one message naming the iteration and the terms or
    weights, epoch_2.pth is never written, and last_checkpoint still names
    the untouched epoch_1.pth."""
    before = fingerprint(catkd_run)
    at_iter = 8 if when == 'before' else 12
    _resume_with_poison(
        catkd_run, image_folder, str(tmp_path), at_iter=at_iter, when=when)
    message = capsys.readouterr().err
    assert 'NonFiniteLossError' in message
    if when == 'before':
        assert 'non-finite loss at iteration 8 (epoch 2)' in message
        assert 'student.loss=nan' in message
        assert 'distill.loss_cat=nan' in message
    else:
        assert 'weights are NaN or infinite' in message
        assert 'architecture.backbone.conv1.weight' in message
    assert not osp.exists(osp.join(catkd_run, 'epoch_2.pth'))
    assert fingerprint(catkd_run) == before
    assert read_last_checkpoint(catkd_run) == osp.join(catkd_run,
                                                       'epoch_1.pth')
    assert not [
        name for name in os.listdir(catkd_run) if name.endswith('.tmp')
    ]
