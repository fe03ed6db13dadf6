# The logit-KD baseline on the data and schedule of the CAT-KD runs
# (../../catkd/_base_/catkd_cifar100.py), with the settings of CRD/MDistiller
# on CIFAR-100: tau 4, 0.1 * CE + 0.9 * KL. An experiment file adds the two
# models and the teacher checkpoint.
_base_ = [
    '../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/algorithms/logit_kd.py',
]

# the student's cross-entropy weight, merged into its model file's head
student_head = dict(loss=dict(loss_weight=0.1))
model = dict(
    distiller=dict(distill_losses=dict(loss_kl=dict(tau=4, loss_weight=0.9))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
