# scikit-learn's bundled handwritten digits (mmcatkd.datasets.SklearnDigits):
# 1,198 train / 599 test 8x8 scans upsampled to 32 px, in memory, trained
# with the weak (default) or strong augmentation of ./augment_32px.py without
# its flip; data, schedule and runtime of the digits runs
# (configs/_base_/datasets/digits.py, schedules/digits.py), 60 iterations.
_base_ = [
    './augment_32px.py',
    '../../_base_/datasets/digits.py',
    '../../_base_/schedules/digits.py',
]

train_dataloader = dict(dataset=dict(pipeline={{_base_.weak_pipeline_noflip}}))
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
]
test_evaluator = val_evaluator

# a fifth of the demo's length
max_iters = 60
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20))

head = dict(
    type='CAMClsHead',
    num_classes={{_base_.num_classes}},
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
# CIFAR-family models with a 10-way CAMClsHead: teachers resnet8x4
# (1,210,410 parameters, 256 x 8 x 8 CAM map), student resnet20 (272,474
# parameters, 64 x 8 x 8)
teacher_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CIFARResNet', arch='resnet8x4'),
    neck=None,
    head=dict(head, in_channels=256))
student_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CIFARResNet', arch='resnet20'),
    neck=None,
    head=dict(head, in_channels=64))
