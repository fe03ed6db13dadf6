# A plain MMPretrain classifier small enough for the test suite: a 2-stage
# ResNet with CAMClsHead on 32 px images the tests generate (data_root is set
# by --cfg-options). Also the student of catkd_tiny.py.
_base_ = ['./tiny_data.py']
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'
num_classes = 4

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[127.5, 127.5, 127.5],
    std=[64.0, 64.0, 64.0],
    to_rgb=True)
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        stem_channels=8,
        base_channels=8),
    neck=None,
    head=dict(
        type='CAMClsHead',
        num_classes=num_classes,
        in_channels=16,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[2])
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
log_processor = dict(by_epoch=True)
log_level = 'INFO'
randomness = dict(seed=0, deterministic=False)
