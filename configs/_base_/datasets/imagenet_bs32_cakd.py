# ImageNet-1k as imagenet_bs64.py, with the augmentations of CAKD's released
# code: TrivialAugment-wide (torchvision's, bilinear), random erasing with
# probability 0.1 (filled with the mean pixel, as torchvision's erasing of a
# normalised tensor with 0) and mixup (alpha 0.2) on the batch, which
# teacher and student both see; repeated augmentation with 4 repeats
# (MMPretrain's RepeatAugSampler, torchvision's RASampler: each epoch is
# about a quarter of the images, each in four augmented views on four GPUs).
# Evaluation resizes the short side to 224 and centre-crops 224, bilinear
# (the authors' --val-resize-size 224). 32 images per GPU (see
# schedules/imagenet_120e_cakd.py).
_base_ = ['./imagenet_bs64.py']

data_preprocessor = dict(
    batch_augments=dict(augments=[dict(type='Mixup', alpha=0.2)]))

train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(type='torchvision/TrivialAugmentWide', interpolation='bilinear'),
    dict(type='PILToNumpy', to_bgr=True),
    dict(
        type='RandomErasing',
        erase_prob=0.1,
        # torchvision's RandomErasing(p=0.1): 2-33 % of the area
        max_area_ratio=0.33,
        mode='const',
        # the ImageNet mean pixel in the pipeline's BGR order
        fill_color=(103.53, 116.28, 123.675)),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='RepeatAugSampler', shuffle=True, num_repeats=4))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
