# The multi-teacher study's distillation at 224 px (Guo et al., ESWA 2025,
# arXiv 2405.00739, as zisci2/RethinkKD's trainer.py computes it): a
# torchvision ResNet-18 student learns from T fine-tuned torchvision
# ResNet-50 teachers with, per teacher,
#     0.6 CE(z_S, y) + 0.4 tau^2 KL(softmax(z_T/tau) || softmax(z_S/tau)),
# tau = 3, averaged over the teachers; teachers and student see the same
# batch; the teachers are never put in eval mode (teacher_mode='train').
# An experiment adds its data and measurements
# (student_{weak,strong}[_lt100].py), schedule and teachers. Teacher
# checkpoints are the best epochs of
# ../resnet50_{weak,strong}_in1k-pre_1xb128_cifar100.py (seeds 1-3), copied to
# work_dirs/multiteacher/paper/teachers/resnet50_{weak,strong}_{1,2,3}.pth.
_base_ = [
    '../../../_base_/default_runtime.py',
    '../../_base_/multi_teacher_kd.py',
]

teacher_model = '{{fileDirname}}/resnet50_cifar100.py'

model = dict(
    architecture=dict(cfg_path='{{fileDirname}}/resnet18_cifar100.py'),
    teacher_mode='train',
    teachers=[])
