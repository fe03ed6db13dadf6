# MobileNetV2 for CIFAR (CRD / MDistiller `MobileNetV2`, built by
# `mobile_half`: width 0.5, expansion 6) on CIFAR-100: 812,836 parameters with
# the 100-way classifier. No neck: CAMClsHead pools the backbone's last output
# itself, the map CAT-KD takes the CAMs from (1280 x 2 x 2 after the final 1x1
# conv, at 32 px).
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=100,
        # MMPretrain's CIFAR-100 statistics; CIFAR images are loaded as RGB
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False),
    backbone=dict(type='CIFARMobileNetV2', arch='mobile_half'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
