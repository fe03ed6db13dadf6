# CAT alone, transferring only the CAMs of the 75 classes the teacher scores
# lowest for each image (the paper's partial-CAM experiment): the student
# never sees the CAMs of the likely classes. No cross-entropy, labels never
# read.
_base_ = ['../catkd/_base_/catkd_cifar100.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet8x4.py',
        head={{_base_.conv_test_fan_out}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/cifar100/resnet32x4.py'),
    teacher_ckpt='work_dirs/teachers/resnet32x4.pth',
    calculate_student_loss=False,
    distiller=dict(
        cat_loss=dict(
            loss_weight=300,
            resolution=2,
            normalize=True,
            num_selected=75,
            selection='bottom',
            # exactly 75; the authors' comparison keeps 76 (all 100 on a
            # tie): class_count='authors' for their Fig. 4 curve
            class_count='exact')))
