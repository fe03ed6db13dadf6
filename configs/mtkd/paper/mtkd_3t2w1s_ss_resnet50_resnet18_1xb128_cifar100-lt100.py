# The multi-teacher study at 224 px: 3 teachers (weak 1, weak 2, strong 3)
# -> a strongly augmented ResNet-18 student on long-tailed CIFAR-100
# (imbalance 100).
# See ../../../docs/multiteacher.md and ./_base_/mtkd.py.
_base_ = [
    './_base_/mtkd.py',
    './_base_/student_strong_lt100.py',
    './_base_/schedule_cifar100-lt100.py',
]

model = dict(
    teachers=[
        dict(cfg_path={{_base_.teacher_model}}),
        dict(cfg_path={{_base_.teacher_model}}),
        dict(cfg_path={{_base_.teacher_model}}),
    ],
    teacher_ckpts=[
        'work_dirs/multiteacher/paper/teachers/resnet50_weak_1.pth',
        'work_dirs/multiteacher/paper/teachers/resnet50_weak_2.pth',
        'work_dirs/multiteacher/paper/teachers/resnet50_strong_3.pth',
    ])
