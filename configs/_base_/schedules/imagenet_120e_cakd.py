# The ImageNet schedule of CAKD's released code: SGD, lr 0.1 (momentum 0.9,
# weight decay 2e-5, none on norm layers), 5 epochs of linear warm-up from
# lr x 0.01, x0.1 at epochs 30, 60 and 90, 120 epochs.
# The batch the lr belongs to is not stated; we take 256 (8 GPUs x 32, the
# default of torchvision's reference scripts this recipe resembles);
# `tools/train.py --auto-scale-lr` scales the lr for another total batch.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-5),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90],
         gamma=0.1),
]

train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
