# A teacher from a family the CAT-KD paper never used: a small ConvNeXt
# (MMPretrain's ConvNeXt, Liu et al., CVPR 2022) trained on all 1,198
# training digits, for `tools/demo.py --teacher-config`
# (docs/your_own_pair.md).
#
# Two config changes make its CAMs exact (tools/check_pair.py checks them):
# `gap_before_final_norm=False` applies the final LayerNorm to the feature map
# instead of after pooling, and CAMClsHead with neck=None takes that map.
# Three stages with a stride-2 stem give a 4x4 map at 32x32 input.
_base_ = ['./resnet56_1xb32_digits.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ConvNeXt',
        arch=dict(depths=[2, 2, 2], channels=[32, 64, 128]),
        stem_patch_size=2,
        gap_before_final_norm=False,
        layer_scale_init_value=0.,
        out_indices=(2, )),
    head=dict(in_channels=128))
# ConvNeXt's usual optimiser (AdamW, weight decay 0.05), at this small scale.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05))
