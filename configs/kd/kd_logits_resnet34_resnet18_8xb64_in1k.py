# KD baseline, ResNet-34 -> ResNet-18 on ImageNet-1k, to compare with
# ../catkd/catkd_resnet34_resnet18_8xb64_in1k.py: logit KD
# (../_base_/algorithms/logit_kd.py) with DKD/MDistiller's ImageNet settings,
# tau 1, 0.5 * CE + 0.5 * KL (MMRazor's own KD config uses CE + 3 * KL
# instead); the same student and teacher as the CAT-KD run.
_base_ = [
    '../_base_/datasets/imagenet_bs64.py',
    '../_base_/schedules/imagenet_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/algorithms/logit_kd.py',
]

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/resnet18.py',
        head=dict(loss=dict(loss_weight=0.5))),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/resnet34.py'),
    # torchvision's resnet34 (73.31), converted while loading; see
    # ../catkd/catkd_resnet34_resnet18_8xb64_in1k.py
    teacher_ckpt='torchvision://resnet34.imagenet1k_v1',
    distiller=dict(distill_losses=dict(loss_kl=dict(tau=1, loss_weight=0.5))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
