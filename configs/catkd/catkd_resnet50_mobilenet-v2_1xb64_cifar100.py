# CAT-KD, resnet50 -> mobilenetv2 on CIFAR-100 (the paper's settings).
# CAMs at 32 px: teacher 4x4, student 2x2, both pooled to 2x2.
# lr 0.01, as for every ShuffleNet and MobileNet student.
_base_ = ['./_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/mobilenetv2.py',
        head={{_base_.conv_test_fan_out}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet50.py'),
    teacher_ckpt='work_dirs/teachers/resnet50.pth',
    distiller=dict(
        cat_loss=dict(loss_weight=40, resolution=2, normalize=True)))
optim_wrapper = dict(optimizer=dict(lr=0.01))
