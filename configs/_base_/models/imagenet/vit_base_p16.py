# ViT-B/16 (MMPretrain's `VisionTransformer`, arch 'base') on ImageNet at
# 224 px: 197 tokens of 768 (the class token and a 14 x 14 patch grid), 12
# blocks of 12 heads, 86,567,656 parameters. The layout of MMPretrain's
# vit-base-p16_32xb128-mae_in1k (the checkpoint the CAKD config loads); its
# drop-path is off whenever the model is a teacher (eval mode).
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
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))
