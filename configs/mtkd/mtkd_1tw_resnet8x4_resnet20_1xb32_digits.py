# Digits stage 2: resnet20 distilled from the weak teacher alone.
_base_ = ['./_base_/mtkd_digits.py']

model = dict(
    teachers=[
        {{_base_.teacher_model}},
    ],
    teacher_ckpts=[
        'work_dirs/multiteacher_digits/teacher_weak/teacher.pth',
    ])
work_dir = './work_dirs/multiteacher_digits/mtkd_1tw'
