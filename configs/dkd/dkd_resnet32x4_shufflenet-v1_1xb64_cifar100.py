# DKD baseline, resnet32x4 -> shufflenetv1 on CIFAR-100
# (alpha 1, beta 8, tau 4),
# to compare with catkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py.
# lr 0.01, as for every ShuffleNet and MobileNet student.
_base_ = ['./_base_/dkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/shufflenetv1.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth')
optim_wrapper = dict(optimizer=dict(lr=0.01))
