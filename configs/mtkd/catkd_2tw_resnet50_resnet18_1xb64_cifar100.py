# CAT-KD from two teachers (weak augmentation): per teacher the CAT loss
# between the student's class activation maps and that teacher's (Guo et
# al., CVPR 2023, Eq. 5), averaged over the teachers, plus the student's CE
# at weight 1. beta = 40 with l2-normalised 2x2 CAMs, CAT-KD's CIFAR-100
# setting for its ResNet-50 teacher
# (../catkd/catkd_resnet50_mobilenet-v2_1xb64_cifar100.py), not tuned for
# this pair.
_base_ = ['./_base_/mtkd_cifar100.py']

model = dict(
    architecture=dict(head=dict(loss=dict(loss_weight=1.0))),
    teachers=[
        dict(cfg_path={{_base_.teacher_model}}),
        dict(cfg_path={{_base_.teacher_model}}),
    ],
    teacher_ckpts=[
        'work_dirs/multiteacher/teachers/resnet50_weak_1.pth',
        'work_dirs/multiteacher/teachers/resnet50_weak_2.pth',
    ],
    distiller=dict(
        _delete_=True,
        type='CAMDistiller',
        cat_loss=dict(loss_weight=40, resolution=2, normalize=True)))
