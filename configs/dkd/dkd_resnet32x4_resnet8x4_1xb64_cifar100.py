# DKD baseline, resnet32x4 -> resnet8x4 on CIFAR-100 (alpha 1, beta 8, tau 4),
# to compare with catkd_resnet32x4_resnet8x4_1xb64_cifar100.py.
_base_ = ['./_base_/dkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet8x4.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth')
