# The ImageNet schedule of DKD/MDistiller and CAT-KD: SGD for 100 epochs,
# lr 0.2 for a total batch of 512, x0.1 at epochs 30, 60 and 90. With another
# total batch, `tools/train.py --auto-scale-lr` scales the lr linearly.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=512)
