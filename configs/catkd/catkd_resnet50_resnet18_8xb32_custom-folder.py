# CAT-KD between two of MMPretrain's own models on your image folder
# (docs/your_own_pair.md): a ResNet-50 teacher fine-tuned on the folder
# (configs/vanilla/resnet50_8xb32_custom-folder.py) distils into a ResNet-18
# that starts from ImageNet weights; CE + beta * CAT with beta measured in
# the first epoch. A worked example, run only on stand-in data: the
# schedule is a starting point, not tuned.
_base_ = [
    '../_base_/datasets/custom_folder_bs32.py',
    '../_base_/schedules/finetune_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/algorithms/catkd.py',
]

model = dict(
    # MMPretrain's packaged configs, used as they are: ResNet + a
    # GlobalAveragePooling neck + LinearClsHead, whose fc applied at every
    # position of the last feature map gives exact CAMs. The keys beside
    # cfg_path are merged into the packaged model: your class count (and
    # the student's ImageNet start).
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        backbone=dict(
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.openmmlab.com/mmclassification/'
                'v0/resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
                prefix='backbone')),
        head=dict(num_classes={{_base_.num_classes}})),
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb32_in1k.py',
        head=dict(num_classes={{_base_.num_classes}})),
    # the fine-tuned teacher, loaded strictly: a checkpoint of another
    # architecture or class count stops the run at once
    teacher_ckpt='work_dirs/teachers/resnet50_custom-folder.pth',
    distiller=dict(
        cat_loss=dict(
            # beta fixed after the first epoch so that beta * CAT ~ 7.07, the
            # middle of the authors' rule (CATAutoBetaHook below)
            loss_weight='auto',
            resolution=2,
            # Unnormalised maps, as the authors' CAT-KD configs of
            # same-family pairs (ImageNet ResNet-34 -> ResNet-18, beta 0.5);
            # CATLoss's default is True. Normalising divides each map by its
            # l2 norm, and the student's new LinearClsHead (MMPretrain's
            # N(0, 0.01) init) starts with near-zero maps whose gradient
            # grows as 1/|CAM|: on the digits a normalised CAT-KD run fell
            # below the student alone (docs/demo.md, docs/your_own_pair.md).
            normalize=False)))

custom_hooks = [dict(type='CATAutoBetaHook')]

# MMRazor's distillation loop: every validation evaluates the student, then
# the teacher (`teacher.accuracy/top1`)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
