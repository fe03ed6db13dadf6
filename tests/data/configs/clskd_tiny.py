# configs/clskd/clskd_deit-base_deit-tiny_4xb128_in1k.py with tiny stand-ins
# for the test suite: 2-block ViTs of width 32 (student) and 48 (teacher) on
# 32 px images in 8 px patches (16 patches + the class token), 4 classes, the
# recipe's transforms at 32 px, one short epoch. data_root is set by
# --cfg-options.
_base_ = ['../../../configs/clskd/clskd_deit-base_deit-tiny_4xb128_in1k.py']
num_classes = 4


def vit(embed_dims, **head):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(
                embed_dims=embed_dims,
                num_layers=2,
                num_heads=2,
                feedforward_channels=2 * embed_dims),
            img_size=32,
            patch_size=8),
        neck=None,
        head=dict(
            type='VisionTransformerClsHead',
            num_classes=num_classes,
            in_channels=embed_dims,
            loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1),
            **head))


layers = (0, 1)
tokens = dict(type='LayerOutputs', source='backbone.layers', indices=layers)
model = dict(
    architecture=dict(
        _delete_=True, init_cfg=[dict(type='TimmViT')], **vit(32)),
    # a random teacher classifier: MMPretrain zero-initialises it, and two
    # uniform predictions would make the KD term vanish
    teacher=dict(
        _delete_=True,
        **vit(48, init_cfg=dict(type='Normal', layer='Linear', std=1.0))),
    teacher_ckpt=None,
    distiller=dict(
        student_recorders=dict(tokens=tokens),
        teacher_recorders=dict(tokens=tokens),
        connectors=dict(cls_proj=dict(in_channels=32, out_channels=48))))
data_preprocessor = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=32,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=[103.53, 116.28, 123.675],
        fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
