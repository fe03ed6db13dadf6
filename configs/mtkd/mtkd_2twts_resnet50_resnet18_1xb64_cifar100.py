# Multi-teacher KD on CIFAR-100: one weak and one strong teacher (CIFAR
# ResNet-50)
# -> ResNet-18, per-teacher KD losses averaged (see ./_base_/mtkd_cifar100.py).
_base_ = ['./_base_/mtkd_cifar100.py']

model = dict(
    teachers=[
        dict(cfg_path={{_base_.teacher_model}}),
        dict(cfg_path={{_base_.teacher_model}}),
    ],
    teacher_ckpts=[
        'work_dirs/multiteacher/teachers/resnet50_weak_1.pth',
        'work_dirs/multiteacher/teachers/resnet50_strong_1.pth',
    ])
