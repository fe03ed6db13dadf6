# The teacher of tools/cuda_check.py's CPU dry run: the student's 2-stage
# ResNet at width 16 with GAP + LinearClsHead (a model-zoo style teacher).
_base_ = ['./resnet_2stage_s8_cam.py']
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', in_channels=32))
