# A model-zoo shaped teacher for the test suite: GAP neck + LinearClsHead,
# twice the width of tiny_student.py.
_base_ = ['./tiny_student.py']
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', in_channels=32))
