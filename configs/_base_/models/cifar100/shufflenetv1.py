# ShuffleNetV1 for CIFAR (CRD / MDistiller `ShuffleV1`: groups 3, 240/480/960
# channels) on CIFAR-100: 949,258 parameters with the 100-way classifier. No
# neck: CAMClsHead pools the backbone's last output itself, the map CAT-KD
# takes the CAMs from (960 x 4 x 4 after the last stage, at 32 px).
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
    backbone=dict(type='CIFARShuffleNetV1', arch='g3'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=960,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
