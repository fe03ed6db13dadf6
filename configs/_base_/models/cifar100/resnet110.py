# ResNet-110 (CRD / MDistiller `resnet110`) on CIFAR-100: 1,736,564 parameters
# with the 100-way classifier. No neck: CAMClsHead pools the backbone's last
# output itself, the map CAT-KD takes the CAMs from (64 x 8 x 8 after the last
# stage, at 32 px).
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
    backbone=dict(type='CIFARResNet', arch='resnet110'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
