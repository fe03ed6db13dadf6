# CAT-KD, vgg13 -> vgg8 on CIFAR-100 (the paper's settings).
# CAMs at 32 px: teacher 4x4, student 4x4, both pooled to 2x2.
_base_ = ['./_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/vgg8.py',
        head={{_base_.conv_test_default}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/vgg13.py'),
    teacher_ckpt='work_dirs/teachers/vgg13.pth',
    distiller=dict(
        cat_loss=dict(loss_weight=4.5, resolution=2, normalize=False)))
