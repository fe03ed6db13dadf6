# What the multi-teacher KD experiments on CIFAR-100 share (Guo et al., ESWA
# 2025, arXiv 2405.00739, at 32 px): the ResNet-18 student learns from T
# frozen CIFAR ResNet-50 teachers with, per teacher,
#     0.6 CE(z_S, y) + 0.4 tau^2 KL(softmax(z_T/tau) || softmax(z_S/tau)),
# tau = 3, averaged over the teachers (MultiTeacherDistill); teachers and
# student see the same weakly augmented batch. The CIFAR-100 schedule of the
# CAT-KD experiments (240 epochs, batch 64).
#
# An experiment file lists the teachers and their checkpoints, expected at
# work_dirs/multiteacher/teachers/resnet50_{weak,strong}_{1,2,3}.pth (train
# them with ../resnet50_{weak,strong}_1xb64_cifar100.py, seeds 1-3).
# `--cfg-options model.teacher_ckpts=None` runs with random teachers (smoke
# tests).
_base_ = [
    './cifar100_weak.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
    './multi_teacher_kd.py',
]

teacher_model = '{{fileDirname}}/../../_base_/models/cifar100/resnet50.py'

model = dict(
    architecture=dict(cfg_path='{{fileDirname}}/resnet18_cifar100.py'),
    teachers=[])

val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
test_evaluator = val_evaluator

# the frozen teachers stay out of the optimizer
optim_wrapper = dict(constructor='mmrazor.TrainableOptimWrapperConstructor')
