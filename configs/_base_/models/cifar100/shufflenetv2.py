# ShuffleNetV2 for CIFAR (CRD / MDistiller `ShuffleV2`: net size 1, 116/232/464
# channels, final 1x1 conv to 1024) on CIFAR-100: 1,355,528 parameters with the
# 100-way classifier. No neck: CAMClsHead pools the backbone's last output
# itself, the map CAT-KD takes the CAMs from (1024 x 4 x 4 after the final 1x1
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
    backbone=dict(type='CIFARShuffleNetV2', arch='1.0x'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
