# What the multi-teacher digits students share: resnet20 learns from the
# resnet8x4 teachers of ../resnet8x4_{weak,strong}_1xb32_digits.py with the
# paper's per-teacher loss 0.6 CE + 0.4 tau^2 KL (tau 3) averaged over the
# teachers, on weakly augmented batches that teachers and student share. An
# experiment file lists the teachers' checkpoints.
_base_ = ['./digits.py']

alpha = 0.6
tau = 3
model = dict(
    _scope_='mmrazor',
    type='MultiTeacherDistill',
    # the student_model of ./digits.py with its CE weighted alpha
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor={{_base_.data_preprocessor}},
        backbone=dict(type='CIFARResNet', arch='resnet20'),
        neck=None,
        head=dict(
            type='CAMClsHead',
            num_classes={{_base_.num_classes}},
            in_channels=64,
            loss=dict(type='CrossEntropyLoss', loss_weight=alpha))),
    teachers=[],
    teacher_ckpts=None,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=tau, loss_weight=1 - alpha)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))),
    attach_teacher_outputs=True)
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
test_evaluator = val_evaluator
optim_wrapper = dict(constructor='mmrazor.TrainableOptimWrapperConstructor')
