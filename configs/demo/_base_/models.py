# The demo's two architectures, CIFAR-100 ResNets of the CRD / MDistiller zoo
# (the paper's resnet56 -> resnet20 pair) with a 10-way CAMClsHead. Named
# `teacher_model`, `student_model` (MDistiller's classifier) and
# `cat_student_model` (the authors' CAT student classifier) so that a
# distillation config can use them ({{_base_.teacher_model}}); a plain config
# sets `model` to one of them.
_base_ = ['../../_base_/datasets/digits.py']

# MDistiller's classifier (teacher, baseline and KD students): nn.Linear with
# a bias and PyTorch's default init.
head = dict(
    type='CAMClsHead',
    num_classes={{_base_.num_classes}},
    in_channels=64,
    bias=True,
    init_cfg=None,
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
# The CAT-trained students' classifier, the authors' conv_test of their
# resnet20: bias-free, kaiming_normal_(fan_out, relu), i.e. N(0, sqrt(2/K)).
cat_head = dict(
    head,
    bias=False,
    init_cfg=dict(
        type='Kaiming',
        layer='Linear',
        mode='fan_out',
        nonlinearity='relu',
        distribution='normal'))
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
cat_student_model = dict(student_model, head=cat_head)
