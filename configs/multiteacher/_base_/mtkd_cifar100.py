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
# them with ../teachers/resnet50_{weak,strong}_cifar100.py, seeds 1-3).
# `--cfg-options model.teacher_ckpts=None` runs with random teachers (smoke
# tests).
_base_ = [
    './cifar100_weak.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]

alpha = 0.6  # weight of the student's CE; the KD term gets 1 - alpha
tau = 3
teacher_model = '{{fileDirname}}/../../_base_/models/cifar100/resnet50.py'

model = dict(
    _scope_='mmrazor',
    type='MultiTeacherDistill',
    architecture=dict(
        cfg_path='{{fileDirname}}/resnet18_cifar100.py',
        head=dict(loss=dict(loss_weight=alpha))),
    teachers=[],
    teacher_ckpts=None,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(
                type='KLDivergence', tau=tau, loss_weight=1 - alpha,
                reduction='batchmean')),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))),
    # validation also runs the teachers, for fidelity and CAM IoU
    attach_teacher_outputs=True)

val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
test_evaluator = val_evaluator

# the frozen teachers stay out of the optimizer
optim_wrapper = dict(constructor='mmrazor.TrainableOptimWrapperConstructor')
