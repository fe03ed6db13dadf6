# scikit-learn's bundled handwritten digits (mmcatkd.datasets.SklearnDigits):
# 1,198 train / 599 test 8x8 scans upsampled to 32 px, in memory, trained
# with the weak (default) or strong augmentation of ./augment_32px.py without
# its flip, and the runtime of the digits runs: iteration-based, validation
# once at the end, only the final weights kept.
_base_ = ['./augment_32px.py']
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'
num_classes = 10

data_preprocessor = dict(
    # scoped: the distillation configs run in the mmrazor scope
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=num_classes,
    # statistics of the training split (grey, so one value per channel)
    mean=[77.9, 77.9, 77.9],
    std=[82.6, 82.6, 82.6],
    to_rgb=False)

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    # off: MMPretrain's tools/train.py turns it on by default, and it
    # needs num_workers > 0
    persistent_workers=False,
    dataset=dict(
        type='SklearnDigits',
        split='train',
        pipeline={{_base_.weak_pipeline_noflip}}),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    drop_last=True)
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='SklearnDigits', split='test',
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
]
test_dataloader = val_dataloader
test_evaluator = val_evaluator

max_iters = 60
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10, end=max_iters),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=-1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
log_processor = dict(by_epoch=False)
log_level = 'INFO'
# one seed for every run: the students differ only in their teachers
randomness = dict(seed=0, deterministic=False)

head = dict(
    type='CAMClsHead',
    num_classes=num_classes,
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
# CIFAR-family models with a 10-way CAMClsHead: teachers resnet8x4
# (1,210,410 parameters, 256 x 8 x 8 CAM map), student resnet20 (272,474
# parameters, 64 x 8 x 8)
teacher_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='CIFARResNet', arch='resnet8x4'),
    neck=None,
    head=dict(head, in_channels=256))
student_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='CIFARResNet', arch='resnet20'),
    neck=None,
    head=dict(head, in_channels=64))
