# Logit KD (Hinton et al., 2015) with MMRazor's own parts, the reference the
# CAT-KD students are compared with: cross-entropy on the 10 labelled digits
# per class + KL divergence to the teacher's softened logits (T=4, weighted
# T^2 inside KLDivergence, as the CIFAR-100 KD benchmarks of CRD/MDistiller).
_base_ = ['./resnet20_1xb16_digits.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    # written by stage 1 of tools/demo.py (which passes its own path)
    teacher_ckpt='work_dirs/demo/teacher/teacher.pth',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
