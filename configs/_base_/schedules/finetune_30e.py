# A short fine-tuning schedule for models that start from ImageNet weights:
# SGD, lr 0.01 for a total batch of 256 (8 GPUs x 32; --auto-scale-lr
# otherwise), cosine decay over 30 epochs. A starting point, not tuned.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=30)

train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
