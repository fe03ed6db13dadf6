# ImageNet-1k in MMPretrain's layout under data/imagenet:
#   train/<wnid>/*.JPEG, val/*.JPEG, meta/train.txt and meta/val.txt (one
#   "relative/path.JPEG label" per line).
# 64 images per GPU: the paper's total batch of 512 on 8 GPUs.
dataset_type = 'ImageNet'
data_root = 'data/imagenet'

# Read by the distillation algorithms (the models' own copies are used when a
# model is trained alone): RGB statistics, images decode as BGR.
data_preprocessor = dict(
    # scoped: MMRazor's algorithms build it from their own registry
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=1000,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# Decoded and resized with Pillow, as torchvision's ImageFolder and
# transforms in the authors' code (Pillow's bilinear resize is antialiased,
# OpenCV's is not).
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
    # the last partial batch is kept, as in MDistiller/CAT-KD
    drop_last=False)
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
