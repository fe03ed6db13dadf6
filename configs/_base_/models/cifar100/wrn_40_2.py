# WRN-40-2 (CRD / MDistiller `wrn_40_2`) on CIFAR-100: 2,255,156 parameters
# with the 100-way classifier. No neck: CAMClsHead pools the backbone's last
# output itself, the map CAT-KD takes the CAMs from (128 x 8 x 8 after the
# final BN + ReLU, at 32 px).
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
    backbone=dict(type='CIFARWideResNet', arch='wrn_40_2'),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=100,
        in_channels=128,
        # MDistiller's classifier: nn.Linear with a bias; WRN's init loop
        # zeroes the bias and leaves PyTorch's default weights,
        # U(+-1/sqrt(fan_in)), which is Kaiming uniform with a = sqrt(5)
        # (the teacher's own training only; CRD's checkpoint replaces it)
        bias=True,
        init_cfg=dict(
            type='Kaiming',
            layer='Linear',
            a=2.23606797749979,
            mode='fan_in',
            nonlinearity='leaky_relu',
            distribution='uniform',
            bias=0),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
