# catkd_tiny.py with randomness in every generator a resume must restore:
# random crops and flips draw from numpy, drop-path from torch.
_base_ = ['../../data/configs/catkd_tiny.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(architecture=dict(backbone=dict(drop_path_rate=0.2)))
randomness = dict(seed=0, deterministic=True)
