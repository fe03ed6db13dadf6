# KD baseline, resnet32x4 -> shufflenetv1 on CIFAR-100
# (tau 4, 0.1 * CE + 0.9 * KL),
# to compare with catkd_resnet32x4_shufflenet-v1_1xb64_cifar100.py.
# lr 0.01, as for every ShuffleNet and MobileNet student.
_base_ = ['./_base_/kd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/shufflenetv1.py',
        head={{_base_.student_head}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth')
optim_wrapper = dict(optimizer=dict(lr=0.01))
