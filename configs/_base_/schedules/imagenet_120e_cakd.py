# The ImageNet schedule of CAKD's released code (torchvision's reference
# recipe): SGD, lr 0.1 (momentum 0.9, weight decay 2e-5, none on norm
# layers), 5 epochs of linear warm-up from lr x 0.01, stepped once per epoch
# as torchvision steps it, then x0.1 every 30 epochs counted from the end of
# the warm-up (torchvision chains the two: drops at epochs 35, 65 and 95),
# 120 epochs.
# The lr belongs to a total batch of 256 (8 GPUs x 32); `tools/train.py
# --auto-scale-lr` scales it for another total batch.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    # torchvision's LinearLR(total_iters=5): lr x 0.01 at epoch 0, x1 from
    # epoch 5 (MMEngine's LinearLR reaches its end factor at step end - 1)
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=6),
    dict(
        type='MultiStepLR', by_epoch=True, milestones=[35, 65, 95], gamma=0.1),
]

train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
