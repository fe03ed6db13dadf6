# Runtime shared by every experiment. Datasets, transforms and metrics live in
# MMPretrain's registries, so MMPretrain is the default scope; distillation
# models name MMRazor's with `_scope_='mmrazor'`.
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # every 10 epochs for --resume, the last 3 kept, plus the final weights
    # and the best top-1 (what the papers report: each run's best epoch)
    checkpoint=dict(
        type='CheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_last=True,
        save_best='accuracy/top1',
        rule='greater'),
    # one line with the best top-1 and its checkpoint when training ends
    best_score=dict(type='BestScoreLoggerHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # without CUDA, mmcatkd's compat layer starts the process group on gloo
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
