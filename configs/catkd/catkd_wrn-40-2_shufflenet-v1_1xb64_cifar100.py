# CAT-KD, wrn_40_2 -> shufflenetv1 on CIFAR-100 (the paper's settings).
# CAMs at 32 px: teacher 8x8, student 4x4, both pooled to 4x4.
# lr 0.01, as for every ShuffleNet and MobileNet student.
_base_ = ['./_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/shufflenetv1.py',
        head={{_base_.conv_test_default}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/wrn_40_2.py'),
    teacher_ckpt='work_dirs/teachers/wrn_40_2.pth',
    distiller=dict(
        cat_loss=dict(loss_weight=80, resolution=4, normalize=True)))
optim_wrapper = dict(optimizer=dict(lr=0.01))
