"""The multi-teacher study's three phases through MMEngine's Runner: a
digits run with AugmentedValLoop and TrainFidelityHook logs train/,
plain and val_aug/ metrics."""
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from tests.conftest import PROJECT_ROOT

CONFIG = osp.join(PROJECT_ROOT, 'configs', 'mtkd',
                  'mtkd_1tw_resnet8x4_resnet20_1xb32_digits.py')


@pytest.mark.slow
def test_digits_run_reports_train_val_and_val_aug(tmp_path):
    """One epoch, random teacher: validation returns the clean metrics
    under their names and the augmented pass (the training views,
    drop_last) under val_aug/; the hook logs the train-side fidelity of
    the epoch to the visualizer's scalars."""
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path)
    cfg.model.teacher_ckpts = None
    # the study trains by epoch; the digits demo by iteration
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    cfg.log_processor = dict(by_epoch=True)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.train_dataloader.dataset.indices = 96  # three batches
    aug = cfg.val_dataloader.copy()
    aug.dataset = dict(
        aug.dataset, pipeline=cfg.train_dataloader.dataset.pipeline)
    aug.drop_last = True
    cfg.val_cfg = dict(
        type='AugmentedValLoop',
        aug_dataloader=aug,
        aug_evaluator=[dict(type='TeacherFidelity'),
                       dict(type='CAMIoU')])
    cfg.custom_hooks = [dict(type='TrainFidelityHook', start_epoch=0)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = [
        json.loads(line)
        for line in open(osp.join(runner.log_dir, 'vis_data', 'scalars.json'))
    ]
    validated = [
        entry for entry in scalars if 'val_aug/cam_iou/'
        'student-teacher0' in entry
    ]
    assert validated and 'accuracy/top1' in validated[0]
    assert 0 <= validated[0]['val_aug/fidelity/top1_agreement'] <= 1
    trained = [
        entry for entry in scalars if 'train/fidelity/top1_agreement' in entry
    ]
    assert len(trained) == 1 and trained[0]['step'] == 1
