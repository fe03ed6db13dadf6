# CAKD, ViT-B/16 -> ResNet-50 on ImageNet-1k ("Cross-Architecture Knowledge
# Distillation", ACCV 2022, as the authors' released code computes it):
# CE (label smoothing 0.1) + lambda(e) * [0.2 QK + 0.05 VV + logits
# + class token + 0.05 patch tokens], all mean squared errors; lambda is 0 for
# 25 epochs, then grows by 0.02 per epoch up to 0.2. Student tokens: the
# 14 x 14 stage-3 map of ResNet-50 at 224 px, the teacher's patch grid.
# See docs/cakd.md.
_base_ = [
    '../_base_/datasets/imagenet_bs32_cakd.py',
    '../_base_/schedules/imagenet_120e_cakd.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='CAKDDistill',
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/resnet50.py',
        # torchvision's ResNet-50: every BN starts at gamma 1
        backbone=dict(zero_init_residual=False),
        head=dict(
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1,
                mode='original'))),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/vit_base_p16.py'),
    # The authors' teacher: torchvision's vit_b_16 IMAGENET1K_V1 (81.07
    # top-1), downloaded on first use and converted to the layout of
    # vit_base_p16.py while loading. MMPretrain's own ViT-B/16 (82.37, MAE
    # recipe) loads as is: 'https://download.openmmlab.com/mmclassification/
    # v0/vit/vit-base-p16_pt-32xb128-mae_in1k_20220623-4c544545.pth'.
    teacher_ckpt='torchvision://vit_b_16.imagenet1k_v1',
    # lambda: set before every epoch by DistillLossWeightHook (below)
    distill_loss_weight=0.0,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            stage3=dict(type='ModuleOutputs', source='backbone.layer3'),
            stage4=dict(type='ModuleOutputs', source='backbone.layer4'),
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            # the last block's q, k, v: MMPretrain's attention does not
            # return its weights
            qkv=dict(
                type='ModuleOutputs', source='backbone.layers.11.attn.qkv'),
            # all tokens after the final LayerNorm
            tokens=dict(type='ModuleOutputs', source='backbone.ln1'),
            # the class token after the final LayerNorm, output 0
            cls_token=dict(type='ModuleOutputs', source='backbone'),
            logits=dict(type='ModuleOutputs', source='head.layers.head')),
        connectors=dict(
            qk_S=dict(
                type='PartialCrossAttentionConnector',
                in_channels=1024,
                relation='qk',
                num_heads=16,
                head_dims=64),
            vv_S=dict(
                type='PartialCrossAttentionConnector',
                in_channels=1024,
                relation='vv',
                num_heads=16,
                head_dims=64),
            patch_tokens_S=dict(
                type='GroupwiseLinearConnector',
                in_channels=1024,
                out_channels=768,
                groups=4),
            cls_token_S=dict(
                type='ClassTokenConnector', in_channels=2048,
                out_channels=768),
            qk_T=dict(
                type='QKVAttentionConnector', num_heads=12, relation='qk'),
            vv_T=dict(
                type='QKVAttentionConnector', num_heads=12, relation='vv'),
            patch_tokens_T=dict(
                type='PatchTokensConnector', num_extra_tokens=1)),
        distill_losses=dict(
            loss_qk=dict(type='CAKDLoss', loss_weight=0.2),
            loss_vv=dict(type='CAKDLoss', loss_weight=0.05),
            loss_logits=dict(type='CAKDLoss', loss_weight=1.0),
            loss_cls_token=dict(type='CAKDLoss', loss_weight=1.0),
            loss_patch_tokens=dict(type='CAKDLoss', loss_weight=0.05)),
        loss_forward_mappings=dict(
            loss_qk=dict(
                s_feature=dict(
                    from_student=True, recorder='stage3', connector='qk_S'),
                t_feature=dict(
                    from_student=False, recorder='qkv', connector='qk_T')),
            loss_vv=dict(
                s_feature=dict(
                    from_student=True, recorder='stage3', connector='vv_S'),
                t_feature=dict(
                    from_student=False, recorder='qkv', connector='vv_T')),
            loss_logits=dict(
                s_feature=dict(from_student=True, recorder='logits'),
                t_feature=dict(from_student=False, recorder='logits')),
            loss_cls_token=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='stage4',
                    connector='cls_token_S'),
                t_feature=dict(
                    from_student=False, recorder='cls_token', data_idx=0)),
            loss_patch_tokens=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='stage3',
                    connector='patch_tokens_S'),
                t_feature=dict(
                    from_student=False,
                    recorder='tokens',
                    connector='patch_tokens_T')))))

custom_hooks = [
    dict(
        type='DistillLossWeightHook',
        start_epoch=25,
        divisor=50,
        max_weight=0.2),
    # torchvision's EMA of the parameters and BN statistics: a copy of the
    # model through the warm-up, then every 32 iterations
    # ema = (1 - alpha) ema + alpha model, with the authors'
    # alpha = (1 - decay) * GPUs * batch * steps / epochs
    #       = 2e-5 * 8 * 32 * 32 / 120 (1.365e-3)
    dict(
        type='EMAHook',
        momentum=2e-5 * 8 * 32 * 32 / 120,
        interval=32,
        update_buffers=True,
        begin_epoch=5),
]

# validates the raw student and its EMA (ema/ prefix) every epoch, as the
# authors' script reports both, and the teacher once
val_cfg = dict(_delete_=True, type='RawAndEMAValLoop')
