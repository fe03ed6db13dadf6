# [CLS]-KD (Kang, Son, Kim, "Adaptive class token knowledge distillation for
# efficient vision transformer", Knowledge-Based Systems 2024): DeiT-Base
# teaches DeiT-Tiny on ImageNet-1k (paper: 75.1 % top-1), with the authors'
# flags --distillation-alpha 1 --distillation-beta 1 --w-cls 1.0 --w-atn 2.0
# --last-w 4.0 --K 192 --s-id/--t-id 0 1 2 3 8 9 10 11 --drop-path 0 and
# DeiT's recipe. Both models are MMPretrain's own DeiT configs. See
# docs/clskd.md.
_base_ = [
    '../_base_/datasets/imagenet_deit.py',
    '../_base_/schedules/imagenet_deit_300e.py',
    '../_base_/default_runtime.py',
]

# Block outputs (B, 197, C), before the final norm, of these blocks of student
# and teacher, paired in order.
layers = (0, 1, 2, 3, 8, 9, 10, 11)
tokens = dict(type='LayerOutputs', source='backbone.layers', indices=layers)
logits = dict(type='ModuleOutputs', source='head.layers.head')
tokens_S = dict(from_student=True, recorder='tokens')
tokens_T = dict(from_student=False, recorder='tokens')

model = dict(
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    # drop-path 0, as the authors train DeiT-Tiny and DeiT-Small; their
    # timm ViT's init (truncated normal std 0.02 on every Linear and on the
    # class token) instead of MMPretrain's (Xavier FFN, zero class token)
    architecture=dict(
        cfg_path='mmpretrain::deit/deit-tiny_4xb256_in1k.py',
        pretrained=False,
        init_cfg=[dict(type='TimmViT')]),
    teacher=dict(
        cfg_path='mmpretrain::deit/deit-base_16xb64_in1k.py',
        pretrained=False),
    # MMPretrain's conversion of the official DeiT-Base weights (81.8 %
    # top-1), the teacher the authors use. Downloaded on first use into
    # torch's hub cache (~/.cache/torch/hub/checkpoints); without internet,
    # put the file anywhere and give its path here or with
    # --cfg-options model.teacher_ckpt=/path/to/deit-base.pth
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/deit/'
    'deit-base_3rdparty_pt-16xb64_in1k_20211124-6f40c188.pth',
    # --distillation-alpha 1 gives the cross-entropy weight 1 - alpha = 0
    calculate_student_loss=False,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(tokens=tokens, logits=logits),
        teacher_recorders=dict(tokens=tokens, logits=logits),
        # one projector for the class tokens of all eight student blocks
        connectors=dict(
            cls_proj=dict(
                type='CLSTokenProjector', in_channels=192, out_channels=768)),
        distill_losses=dict(
            loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0),
            loss_cls=dict(
                type='CLSTokenLoss', last_weight=4.0, loss_weight=1.0),
            loss_atn=dict(
                type='CLSPatchAttentionLoss', last_weight=4.0,
                loss_weight=2.0),
            loss_mf_sample=dict(type='SampleManifoldLoss', loss_weight=0.1),
            loss_mf_patch=dict(type='PatchManifoldLoss', loss_weight=4.0),
            loss_mf_rand=dict(
                type='RandomManifoldLoss', num_samples=192, loss_weight=0.2)),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')),
            loss_cls=dict(
                cls_S=dict(tokens_S, connector='cls_proj'), tokens_T=tokens_T),
            loss_atn=dict(tokens_S=tokens_S, tokens_T=tokens_T),
            loss_mf_sample=dict(tokens_S=tokens_S, tokens_T=tokens_T),
            loss_mf_patch=dict(tokens_S=tokens_S, tokens_T=tokens_T),
            loss_mf_rand=dict(tokens_S=tokens_S, tokens_T=tokens_T))))

# Validates the teacher with the student at every validation (teacher.* in the
# log): a check that its checkpoint loaded, for one DeiT-B pass over val.
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
