# The schedule and runtime of the digits runs (the demo, unseen classes, the
# multi-teacher study), with ../datasets/digits.py. Iteration-based so that
# every stage prints about ten progress lines with an ETA, and every student
# takes the same number of optimiser steps: SGD, a linear warm-up over the
# first tenth, cosine decay. A study with another length sets max_iters,
# param_scheduler and train_cfg together.
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'

max_iters = 300

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters),
]
# validate once, at the end: the test split is the only held-out data
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=30),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # only the final weights, as last_checkpoint's target
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=-1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
log_processor = dict(by_epoch=False)
log_level = 'INFO'
# the same seed for every run: students differ only in how they learn
randomness = dict(seed=0, deterministic=False)
