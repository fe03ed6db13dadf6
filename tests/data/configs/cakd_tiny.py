# CAKD with tiny stand-ins for the test suite: a 2-block ViT (width 64,
# 4 heads, 32 px in patches of 4: an 8 x 8 patch grid) teaches a small
# ResNet whose stage 3 is 8 x 8 too, on the 32 px images the tests generate
# (data_root is set by the test). Recorders, connectors, losses, the lambda
# hook and the algorithm are those of
# configs/cakd/cakd_vit-base-p16_resnet50_8xb32_in1k.py; only sizes, data and
# schedule length differ.
_base_ = ['../../../configs/cakd/cakd_vit-base-p16_resnet50_8xb32_in1k.py']
num_classes = 4

data_preprocessor = dict(
    num_classes=num_classes, mean=[127.5, 127.5, 127.5], std=[64., 64., 64.])

model = dict(
    architecture=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            # 32 px -> 8 x 8 after the stem, kept by stages 1-3
            strides=(1, 1, 1, 2),
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=64,
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1,
                mode='original'))),
    teacher=dict(
        _delete_=True,
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(
                embed_dims=64,
                num_layers=2,
                num_heads=4,
                feedforward_channels=128),
            img_size=32,
            patch_size=4,
            # both must be off in the teacher, which stays in eval mode
            drop_rate=0.1,
            drop_path_rate=0.1),
        neck=None,
        head=dict(
            type='VisionTransformerClsHead',
            num_classes=num_classes,
            in_channels=64,
            # MMPretrain's zero init would make the teacher's logits 0
            init_cfg=None)),
    teacher_ckpt=None,
    distiller=dict(
        teacher_recorders=dict(qkv=dict(source='backbone.layers.1.attn.qkv')),
        connectors=dict(
            qk_S=dict(in_channels=32, num_heads=4, head_dims=16),
            vv_S=dict(in_channels=32, num_heads=4, head_dims=16),
            patch_tokens_S=dict(in_channels=32, out_channels=64),
            cls_token_S=dict(in_channels=64, out_channels=64),
            qk_T=dict(num_heads=4),
            vv_T=dict(num_heads=4))))

pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=32),
    dict(type='PackInputs'),
]
dataset = dict(
    _delete_=True, type='CustomDataset', data_root='', pipeline=pipeline)
loader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    pin_memory=False,
    dataset=dataset)
train_dataloader = dict(loader, drop_last=True)
val_dataloader = loader
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=2)
# lambda 0 in epoch 0, 0.5 in epoch 1
custom_hooks = [
    dict(
        type='DistillLossWeightHook', start_epoch=0, divisor=2,
        max_weight=0.5),
    dict(
        type='EMAHook',
        momentum=0.1,
        interval=2,
        update_buffers=True,
        begin_epoch=1),
]
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
