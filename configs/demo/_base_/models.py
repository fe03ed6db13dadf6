# The demo's two architectures, CIFAR-100 ResNets of the CRD / MDistiller zoo
# (the paper's resnet56 -> resnet20 pair) with a 10-way CAMClsHead. Named
# `teacher_model` and `student_model` so that a distillation config can use
# both ({{_base_.teacher_model}}); a plain config sets `model` to one of them.
_base_ = ['./digits.py']

head = dict(
    type='CAMClsHead',
    num_classes={{_base_.num_classes}},
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
teacher_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CIFARResNet', arch='resnet56'),
    neck=None,
    head=head)
student_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='CIFARResNet', arch='resnet20'),
    neck=None,
    head=head)
