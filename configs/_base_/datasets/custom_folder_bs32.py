# Your own classification data as an image folder, read by MMPretrain's
# CustomDataset (no annotation file):
#   data/custom/train/<class name>/<image>   (.jpg, .png, ... any image)
#   data/custom/val/<class name>/<image>
# The classes are the sub-folder names in sorted order. Set num_classes to
# their number: the example's model configs read it from here.
num_classes = 5
dataset_type = 'CustomDataset'
data_root = 'data/custom'

# ImageNet's RGB statistics, which MMPretrain's model-zoo weights expect;
# images decode as BGR.
data_preprocessor = dict(
    # scoped: MMRazor's algorithms build it from their own registry
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# 32 images per GPU (MMPretrain's ResNet recipes: 8 GPUs x 32)
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
# top-5 needs at least five classes
val_evaluator = dict(type='Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
