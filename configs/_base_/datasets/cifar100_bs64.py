# CIFAR-100 in MMPretrain's `CIFAR100` format: the python version of the data
# set (https://www.cs.toronto.edu/~kriz/cifar.html) extracted to
# data/cifar100/cifar-100-python/{train,test,meta}. Batch 64 on one GPU, the
# setting of CRD, MDistiller and CAT-KD.
dataset_type = 'CIFAR100'
data_root = 'data/cifar100'

# Read by the distillation algorithms (the models' own copies are used when a
# model is trained alone): CIFAR arrays are already RGB.
data_preprocessor = dict(
    # scoped: MMRazor's algorithms build it from their own registry
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=100,
    mean=[129.311, 124.109, 112.404],
    std=[68.213, 65.408, 70.406],
    to_rgb=False)

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        # never fetch 160 MB behind the user's back; tools/train.py says where
        # to put the files instead (mmcatkd.datasets.check_datasets)
        download=False,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
    # the last partial batch is kept, as in CRD/MDistiller/CAT-KD (782
    # iterations per epoch at batch 64)
    drop_last=False)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        download=False,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
