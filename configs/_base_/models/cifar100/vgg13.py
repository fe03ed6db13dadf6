# VGG-13 with BN (CRD / MDistiller `vgg13`, built by `vgg13_bn`) on CIFAR-100:
# 9,462,180 parameters with the 100-way classifier. No neck: CAMClsHead pools
# the backbone's last output itself, the map CAT-KD takes the CAMs from (512 x
# 4 x 4 after block 4's ReLU, at 32 px).
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=100,
        # CRD/MDistiller's CIFAR-100 statistics x 255 (mean 0.5071, 0.4867,
        # 0.4408; std 0.2675, 0.2565, 0.2761); CIFAR images load as RGB
        mean=[129.311, 124.109, 112.404],
        std=[68.213, 65.408, 70.406],
        to_rgb=False),
    backbone=dict(type='CIFARVGG', arch='vgg13'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=512,
        # MDistiller's classifier: nn.Linear with a bias, initialised by
        # VGG's _initialize_weights: weights N(0, 0.01), zero bias (the
        # teacher's own training only; CRD's checkpoint replaces it)
        bias=True,
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
