# Logit KD (Hinton et al., "Distilling the Knowledge in a Neural Network",
# 2015) with MMRazor's ConfigurableDistiller and KLDivergence (tau^2 *
# KL(p_T || p_S), averaged over the batch, as MDistiller's KD). The teacher
# is frozen in eval mode under no_grad, as in MDistiller; FrozenTeacherDistill
# also reads `cfg_path` models and converts torchvision:// teachers. A data
# set's KD _base_ sets tau and the weights; an experiment adds the models and
# the teacher checkpoint.
model = dict(
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
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
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
