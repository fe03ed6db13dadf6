"""The multi-teacher study's own setting (Guo et al., ESWA 2025;
zisci2/RethinkKD main.py, trainer.py, scripts/*.sh): every paper config
trains what its name says, on the authors' schedule."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from tests.conftest import PROJECT_ROOT

PAPER = osp.join(PROJECT_ROOT, 'configs', 'mtkd', 'paper')
STUDENTS = sorted(glob.glob(osp.join(PAPER, 'mtkd_*.py')))
NAME = re.compile(r'mtkd_(\w+)_s([ws])_resnet50_resnet18_1xb128_'
                  r'(cifar100|cifar100-lt100)\.py')
# the teachers a name stands for, in order
SETS = {
    '1tw': ['weak'],
    '1ts': ['strong'],
    '2tw': ['weak'] * 2,
    '2ts': ['strong'] * 2,
    '2twts': ['weak', 'strong'],
    '3tw': ['weak'] * 3,
    '3ts': ['strong'] * 3,
    '3t2w1s': ['weak', 'weak', 'strong'],
    '3t1w2s': ['weak', 'strong', 'strong']
}


def test_all_teacher_sets_and_students_are_shipped():
    names = {osp.basename(path) for path in STUDENTS}
    for teachers in SETS:
        for student in ('sw', 'ss'):
            for data in ('cifar100', 'cifar100-lt100'):
                assert (f'mtkd_{teachers}_{student}_resnet50_resnet18_'
                        f'1xb128_{data}.py') in names
    assert len(names) == 36


@pytest.mark.slow  # 36 config parses, ~15 s
@pytest.mark.parametrize('path', STUDENTS, ids=osp.basename)
def test_paper_multiteacher_config_names_its_setting(path):
    teachers, student, data = NAME.fullmatch(osp.basename(path)).groups()
    kinds = SETS[teachers]
    cfg = Config.fromfile(path)
    # teacher t of the set: its augmentation and seed t + 1
    assert cfg.model.teacher_ckpts == [
        f'work_dirs/multiteacher/paper/teachers/resnet50_{kind}_{i + 1}.pth'
        for i, kind in enumerate(kinds)
    ]
    assert len(cfg.model.teachers) == len(kinds)
    assert cfg.model.teacher_mode == 'train'
    views = dict(w=cfg.weak_pipeline, s=cfg.strong_pipeline)[student]
    train_set = cfg.train_dataloader.dataset
    if data.endswith('lt100'):
        assert (train_set.type,
                train_set.imbalance_factor) == ('LongTailedDataset', 100)
        train_set = train_set.dataset
        assert cfg.train_cfg.max_epochs == 175
    else:
        assert cfg.train_cfg.max_epochs == 200
    assert (train_set.split, train_set.pipeline) == ('train', views)
    # tools/test.py: calibration on the training split, the student's views
    assert cfg.test_dataloader.dataset == cfg.train_dataloader.dataset
    assert cfg.val_dataloader.dataset.split == 'test'
    assert cfg.train_dataloader.batch_size == 128
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == (0.1, 0.9, 0.0)


def authors_lr(epoch, steps, base_lr=0.1):
    """The lr epoch ``epoch`` trains at in the authors' main.py: LambdaLR
    with 8 warm-up epochs and x0.1 at each of ``steps``, stepped before
    every epoch (so at the factor for epoch + 1)."""
    t = epoch + 1
    factor = 0.1**sum(t >= step for step in steps)
    if t < 8:
        factor *= (1 + t) / 8
    return base_lr * factor


@pytest.mark.parametrize('config,epochs,steps', [
    ('mtkd_2twts_sw_resnet50_resnet18_1xb128_cifar100.py', 200, (190, 195)),
    ('mtkd_2twts_sw_resnet50_resnet18_1xb128_cifar100-lt100.py', 175,
     (160, 165, 170)),
    ('resnet50_weak_in1k-pre_1xb128_cifar100.py', 61, (25, 40, 60)),
])
def test_lr_of_every_epoch_is_the_authors(config, epochs, steps):
    cfg = Config.fromfile(osp.join(PAPER, config))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(scheduler, optimizer=optimizer))
        for scheduler in cfg.param_scheduler
    ]
    for epoch in range(epochs):
        assert optimizer.param_groups[0]['lr'] == pytest.approx(
            authors_lr(epoch, steps), rel=1e-9), epoch
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()


@pytest.mark.slow
def test_teacher_starts_from_torchvisions_imagenet_resnet50(
        tmp_path, monkeypatch):
    """The teacher configs fine-tune torchvision's ImageNet ResNet-50: every
    backbone tensor of torchvision://resnet50 lands in the MMPretrain
    backbone under the same name (a random torchvision model stands in for
    the download, put where the scheme looks for it)."""
    import torchvision
    from mmengine.registry import DefaultScope
    from mmengine.runner.checkpoint import get_torchvision_models
    from mmpretrain.registry import MODELS

    import mmcatkd  # noqa: F401
    torch.manual_seed(0)
    reference = torchvision.models.resnet50().state_dict()
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path))
    cached = tmp_path / 'checkpoints' / osp.basename(
        get_torchvision_models()['resnet50'])
    cached.parent.mkdir()
    torch.save(reference, cached)
    cfg = Config.fromfile(
        osp.join(PAPER, 'resnet50_weak_in1k-pre_1xb128_cifar100.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    backbone = model.backbone.state_dict()
    loaded = [key for key in reference if not key.startswith('fc.')]
    assert set(loaded) == set(backbone)
    for key in loaded:
        assert torch.equal(backbone[key], reference[key]), key
    assert model.head.fc.weight.shape == (100, 2048)
