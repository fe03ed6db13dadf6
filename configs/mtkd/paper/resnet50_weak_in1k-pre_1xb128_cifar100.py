# A teacher of the multi-teacher study (scripts/cifar100-T.sh, main.py
# --mode train): torchvision's ImageNet ResNet-50 (IMAGENET1K_V1) with a new
# 100-way fc, fine-tuned on CIFAR-100 at 224 px with the weak augmentation,
# 61 epochs, SGD lr 0.1, momentum 0.9, no weight decay, batch 128, 8 warm-up
# epochs, x0.1 at --lr_steps 25 40 60 (epochs 24, 39, 59 here: the authors
# step before each epoch). The best epoch is the teacher (the authors load
# checkpoint_bestAcc1): train three with seeds 1-3 and copy each
# best_accuracy_top1_epoch_*.pth to
# work_dirs/multiteacher/paper/teachers/resnet50_weak_{1,2,3}.pth.
_base_ = [
    './_base_/resnet50_cifar100.py',
    './_base_/student_weak.py',
    './_base_/schedule_cifar100.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))
# a plain classifier: MMEngine's default optimizer constructor. fp32; the
# authors train under fp16 autocast without a GradScaler, which on a GPU is
# --cfg-options optim_wrapper.type=AmpOptimWrapper
#     optim_wrapper.dtype=float16 optim_wrapper.loss_scale.enabled=False
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0))
param_scheduler = [
    # MMEngine's LinearLR reaches its end factor at step end - 1
    dict(type='LinearLR', start_factor=0.25, by_epoch=True, begin=0, end=7),
    dict(
        type='MultiStepLR', by_epoch=True, milestones=[24, 39, 59], gamma=0.1),
]
train_cfg = dict(max_epochs=61)
randomness = dict(seed=1)
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
]
test_evaluator = val_evaluator
# a teacher trains alone: plain validation, no teachers to compare with
val_cfg = dict(_delete_=True)
custom_hooks = []
