# scikit-learn's bundled handwritten digits (mmcatkd.datasets.SklearnDigits):
# 1,198 train / 599 test real 8x8 scans, upsampled to 32x32 and repeated over
# three channels, held in memory. Nothing is downloaded or written.
num_classes = 10

data_preprocessor = dict(
    # scoped: the distillation configs run in the mmrazor scope
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=num_classes,
    # statistics of the training split (grey, so one value per channel)
    mean=[77.9, 77.9, 77.9],
    std=[82.6, 82.6, 82.6],
    to_rgb=False)

# A shift of up to 4 px (one pixel of the 8x8 scan); no flips, which would
# turn some digits into others.
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    # off: MMPretrain's tools/train.py turns it on by default, and it
    # needs num_workers > 0
    persistent_workers=False,
    dataset=dict(type='SklearnDigits', split='train', pipeline=train_pipeline),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    drop_last=True)
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type='SklearnDigits', split='test', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
