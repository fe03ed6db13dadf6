# CAT alone, the paper's central experiment: a resnet32x4 student learns from
# the CAMs of a resnet32x4 teacher and nothing else: no cross-entropy, labels
# never read. beta 50 as in the authors' config (they note CAT's beta was not
# tuned).
_base_ = ['../catkd/_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py',
        head={{_base_.conv_test_fan_out}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth',
    calculate_student_loss=False,
    distiller=dict(
        cat_loss=dict(loss_weight=50, resolution=2, normalize=True)))
