"""A CAM resolution the training images cannot give
fails before the first training step, in one sentence; the check itself
changes nothing."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from mmcatkd.engine import capture_rng_state, preflight_check
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import data_root_options
from tests.reliability.helpers import CATKD, CATKD_RANDOM, train_in_process


@pytest.mark.slow
def test_cam_resolution_larger_than_the_cams_fails_before_training(
        image_folder, tmp_path, capsys):  # noqa: F811
    """32 px images give 4x4 CAMs: resolution 8 stops the run in
    before_train with the input size and the resolution named, before any
    iteration and without a checkpoint (it used to fail inside the loss of
    the first step)."""
    work_dir = str(tmp_path / 'work')
    with pytest.raises(SystemExit):
        train_in_process(CATKD, work_dir, image_folder,
                         'model.distiller.cat_loss.resolution=8')
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    assert ('train.py: error: training cannot start: the loss fails on the '
            'first training sample (input 3x32x32 after the pipeline): CAM '
            'resolution 8 is larger than') in stderr
    assert '(PreflightError;' in stderr
    log = ''.join(
        open(path).read()
        for path in glob.glob(osp.join(work_dir, '*', '*.log')))
    assert 'Epoch(train)' not in log
    assert not glob.glob(osp.join(work_dir, '*.pth'))


def test_preflight_check_changes_neither_weights_nor_generators(
        image_folder):  # noqa: F811
    """One loss on one sample in eval mode without gradients: batch-norm
    statistics, weights, training mode and the random generators are as
    before (pipeline with random crops and flips, drop-path)."""
    cfg = Config.fromfile(CATKD_RANDOM)
    cfg.merge_from_dict(
        dict(option.split('=') for option in data_root_options(image_folder)))
    model = MODELS.build(cfg.model)
    model.train()
    # the scope the Runner would set from the config's default_scope
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataloader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    weights = {key: value.clone() for key, value in model.state_dict().items()}
    rng = capture_rng_state()
    preflight_check(model, dataloader)
    assert model.training and model.architecture.training
    assert all(
        torch.equal(value, weights[key])
        for key, value in model.state_dict().items())
    after = capture_rng_state()
    assert torch.equal(after['torch'], rng['torch'])
    assert after['python'] == rng['python']
    assert torch.equal(after['numpy']['state']['key'],
                       rng['numpy']['state']['key'])
