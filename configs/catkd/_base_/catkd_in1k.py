# What every CAT-KD experiment on ImageNet-1k shares (paper Sec. 4.1, the
# authors' configs): cross-entropy (weight 1) + beta * CAT, 100 epochs, lr 0.2
# for a total batch of 512 (8 GPUs x 64; --auto-scale-lr otherwise), x0.1 at
# 30/60/90. An experiment file adds the two models, the student's classifier,
# the teacher checkpoint and its CAT options. Every value is held against the
# authors' in configs/recipes.yml.
_base_ = [
    '../../_base_/datasets/imagenet_bs64.py',
    '../../_base_/schedules/imagenet_100e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/algorithms/catkd.py',
]

# MMRazor's distillation loop: every validation evaluates the student, then
# the teacher on the same data (`teacher.accuracy/top1`), which costs one
# teacher pass over the validation set each time
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
