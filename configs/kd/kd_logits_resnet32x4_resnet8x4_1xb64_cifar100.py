# KD baseline, resnet32x4 -> resnet8x4 on CIFAR-100
# (tau 4, 0.1 * CE + 0.9 * KL),
# to compare with catkd_resnet32x4_resnet8x4_1xb64_cifar100.py.
_base_ = ['./_base_/kd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet8x4.py',
        head={{_base_.student_head}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth')
