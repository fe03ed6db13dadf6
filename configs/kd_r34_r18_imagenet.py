# KD baseline, ResNet-34 -> ResNet-18 on ImageNet-1k, to compare with
# catkd_r34_r18_imagenet.py: MMRazor's own SingleTeacherDistill and
# KLDivergence with DKD/MDistiller's ImageNet settings, tau 1,
# 0.5 * CE + 0.5 * KL (MMRazor's own KD config uses CE + 3 * KL instead).
_base_ = [
    './_base_/datasets/imagenet_bs64.py',
    './_base_/schedules/imagenet_100e.py',
    './_base_/default_runtime.py',
]
# MMRazor's algorithms resolve `cfg_path` only inside installed packages
# ('mmpretrain::...'); mmcatkd's resolver reads our model files into the same
# model dicts CATDistill builds from them (same student as the CAT-KD run).
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path  # noqa: E402

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=resolve_cfg_path(dict(
        cfg_path='{{fileDirname}}/_base_/models/imagenet/resnet18.py',
        head=dict(loss=dict(loss_weight=0.5)))),
    teacher=resolve_cfg_path(dict(
        cfg_path='{{fileDirname}}/_base_/models/imagenet/resnet34.py')),
    # downloaded on first use; see catkd_r34_r18_imagenet.py for a local file
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet34_8xb32_in1k_20210831-f257d4e6.pth',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=0.5)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
