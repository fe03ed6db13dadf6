# KD baseline, resnet32x4 -> resnet8x4 on CIFAR-100
# (tau 4, 0.1 * CE + 0.9 * KL),
# to compare with catkd_resnet32x4_resnet8x4.py.
_base_ = ['./_base_/kd.py']
# MMRazor's algorithms resolve `cfg_path` only inside installed packages
# ('mmpretrain::...'); mmcatkd's resolver reads our model files into the same
# model dicts CATDistill builds from them.
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path  # noqa: E402

model = dict(
    architecture=resolve_cfg_path(dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet8x4.py',
        head=dict(loss=dict(loss_weight=0.1)))),
    teacher=resolve_cfg_path(dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py')),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth')
