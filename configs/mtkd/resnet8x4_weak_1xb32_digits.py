# Digits stage 1: a resnet8x4 teacher trained alone with the weak
# augmentation, weak teacher of the multi-teacher digits students. The
# weights go to work_dirs/multiteacher_digits/teacher_weak/teacher.pth.
_base_ = ['./_base_/digits.py']

model = {{_base_.teacher_model}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.weak_pipeline_noflip}}))
work_dir = './work_dirs/multiteacher_digits/teacher_weak'
default_hooks = dict(checkpoint=dict(filename_tmpl='teacher.pth'))
