# A 2-stage ResNet (stem and base width 8) with CAMClsHead, 4 classes, on
# 32 px images: the student of tools/cuda_check.py's CPU dry run, small
# enough to check on a laptop what the GPU checks check at full size.
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=4,
        mean=[127.5, 127.5, 127.5],
        std=[64.0, 64.0, 64.0],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        stem_channels=8,
        base_channels=8),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=4,
        in_channels=16,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
