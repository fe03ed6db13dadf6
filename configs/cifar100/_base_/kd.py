# The logit-KD baseline (Hinton et al., "Distilling the Knowledge in a Neural
# Network", 2015) with MMRazor's own SingleTeacherDistill,
# ConfigurableDistiller and KLDivergence, on the data and schedule of the
# CAT-KD runs (./catkd.py).
# Settings of CRD/MDistiller on CIFAR-100: tau 4, 0.1 * CE + 0.9 * KL; an
# experiment file adds the models (student CE weight 0.1) and the teacher.
_base_ = [
    '../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    teacher_ckpt=None,
    distiller=dict(
        type='ConfigurableDistiller',
        # the logits: `head.fc` is an nn.Linear in CAMClsHead and
        # LinearClsHead alike
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=0.9)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
