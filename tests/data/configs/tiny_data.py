# The tiny configs' data: 32 px images from a folder the tests generate
# (data_root is set by --cfg-options), four to a batch, no workers.
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=32),
    dict(type='PackInputs'),
]
dataset = dict(type='CustomDataset', data_root='', pipeline=pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    # off: MMPretrain's tools/train.py turns it on by default, and it
    # needs num_workers > 0
    persistent_workers=False,
    dataset=dataset,
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True)
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dataset,
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
