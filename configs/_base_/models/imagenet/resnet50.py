# ResNet-50 (MMPretrain's `ResNet`, the layout of torchvision's `resnet50`) on
# ImageNet: 25,557,032 parameters with the 1000-way classifier. No neck:
# CAMClsHead pools the backbone's last output itself, the map CAT-KD takes the
# CAMs from (2048 x 7 x 7 after the last stage, at 224 px).
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        # ImageNet statistics in RGB order; image files are decoded as BGR
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        # every BN starts at gamma 1, as in torchvision's and the authors'
        # ResNets (MMPretrain's default zeroes each block's last BN)
        zero_init_residual=False),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=1000,
        in_channels=2048,
        # MDistiller's / torchvision's classifier: nn.Linear with a bias and
        # PyTorch's default init (None); CAT-KD students set the authors'
        # conv_test instead
        bias=True,
        init_cfg=None,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))
