# The students' schedule of the multi-teacher study's code (main.py, scripts
# cifar100.sh): SGD lr 0.1, momentum 0.9, no weight decay, batch 128, 200
# epochs; LambdaLR with 8 warm-up epochs (factor (e + 1) / 8) and x0.1 at
# --lr_steps 190 195. The authors call scheduler.step() before each epoch,
# so epoch e trains at their factor for e + 1: 2/8, 3/8, ..., 1 from epoch
# 6, x0.1 from epoch 189 and x0.01 from 194 (0-based), which is what these
# per-epoch schedulers give.
optim_wrapper = dict(
    # the frozen teachers stay out of the optimizer
    constructor='mmrazor.TrainableOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0))
param_scheduler = [
    # MMEngine's LinearLR reaches its end factor at step end - 1
    dict(type='LinearLR', start_factor=0.25, by_epoch=True, begin=0, end=7),
    dict(type='MultiStepLR', by_epoch=True, milestones=[189, 194], gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
