# schedule_cifar100.py for long-tailed CIFAR-100 (scripts cifar100_imb.sh):
# 175 epochs, --lr_steps 160 165 170, i.e. x0.1 from epoch 159, x0.01 from
# 164, x0.001 from 169 (0-based; the authors step before each epoch).
_base_ = ['./schedule_cifar100.py']

param_scheduler = [
    # MMEngine's LinearLR reaches its end factor at step end - 1
    dict(type='LinearLR', start_factor=0.25, by_epoch=True, begin=0, end=7),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[159, 164, 169],
        gamma=0.1),
]
train_cfg = dict(max_epochs=175)
