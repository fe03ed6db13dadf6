# CAT-KD, wrn_40_2 -> wrn_40_1 on CIFAR-100 (the paper's settings).
# CAMs at 32 px: teacher 8x8, student 8x8, both pooled to 2x2.
_base_ = ['./_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/wrn_40_1.py',
        head={{_base_.conv_test_fan_out}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/wrn_40_2.py'),
    teacher_ckpt='work_dirs/teachers/wrn_40_2.pth',
    distiller=dict(
        cat_loss=dict(loss_weight=1.5, resolution=2, normalize=False)))
