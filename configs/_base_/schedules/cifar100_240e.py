# The CIFAR-100 schedule of CRD, MDistiller and CAT-KD: SGD for 240 epochs,
# lr x0.1 at epochs 150, 180 and 210. lr 0.05 suits the ResNet, WRN and VGG
# students; ShuffleNet and MobileNet students use 0.01 (set per experiment).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210], gamma=0.1)

train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# the reference runs use one GPU with 64 images per step
auto_scale_lr = dict(base_batch_size=64)
