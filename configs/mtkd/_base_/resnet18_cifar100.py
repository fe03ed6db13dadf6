# ResNet-18 for 32 px inputs (MMPretrain's ResNet_CIFAR: 3x3 stem, no
# max-pool) on CIFAR-100, the multi-teacher student standing in for the
# paper's 224 px ImageNet ResNet-18: 11,220,132 parameters with the 100-way
# classifier. No neck: CAMClsHead pools the last stage's 512 x 4 x 4 map
# itself, the map its CAMs are taken from.
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
    backbone=dict(type='ResNet_CIFAR', depth=18, out_indices=(3, )),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
