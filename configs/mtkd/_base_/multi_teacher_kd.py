# The multi-teacher KD of Guo et al. (ESWA 2025, arXiv 2405.00739): per
# teacher 0.6 CE(z_S, y) + 0.4 tau^2 KL(softmax(z_T/tau) || softmax(z_S/tau)),
# tau = 3 (batchmean), averaged over the teachers by MultiTeacherDistill; the
# logits recorded at `head.fc`. A including config sets the student
# (`architecture.cfg_path`), the teachers and their checkpoints.
alpha = 0.6  # weight of the student's CE; the KD term gets 1 - alpha
tau = 3

model = dict(
    _scope_='mmrazor',
    type='MultiTeacherDistill',
    architecture=dict(head=dict(loss=dict(loss_weight=alpha))),
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
                type='KLDivergence',
                tau=tau,
                loss_weight=1 - alpha,
                reduction='batchmean')),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))),
    # validation also runs the teachers, for fidelity and CAM IoU
    attach_teacher_outputs=True)
