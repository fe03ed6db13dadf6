# The DKD baseline (Zhao et al., "Decoupled Knowledge Distillation", CVPR
# 2022) with MMRazor's ConfigurableDistiller and DKDLoss, on the data and
# schedule of the CAT-KD runs (../../catkd/_base_/catkd_cifar100.py). DKD's
# CIFAR-100 settings: CE (weight 1) + DKD with alpha 1, beta 8, tau 4. The
# teacher is frozen in eval mode (FrozenTeacherDistill, as MDistiller; it
# also reads `cfg_path` models).
# The DKD loss is ramped in over the first 20 epochs as in DKD/MDistiller
# (weight min(epoch / 20, 1), 1-based epochs).
_base_ = [
    '../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    teacher_ckpt=None,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            # the labels, as the student head hands them to its CE loss
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            # 'batchmean' divides by the batch size as DKD does; MMRazor's
            # 'mean' would sum over the batch instead
            loss_dkd=dict(
                type='DKDLoss',
                tau=4,
                alpha=1,
                beta=8,
                reduction='batchmean',
                loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_dkd=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc'),
                gt_labels=dict(
                    from_student=True, recorder='gt_labels', data_idx=1)))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# DKD's warm-up: loss_dkd.loss_weight = min((epoch + 1) / 20, 1) before each
# (0-based) epoch
custom_hooks = [
    dict(
        type='DistillLossWeightHook',
        start_epoch=-1,
        divisor=20,
        max_weight=1.0,
        loss_name='loss_dkd')
]
