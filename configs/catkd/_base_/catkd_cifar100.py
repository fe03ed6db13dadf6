# What every CAT-KD experiment on CIFAR-100 shares (paper Sec. 4.1, the
# authors' configs): cross-entropy (weight 1) + beta * CAT, batch 64, 240
# epochs, lr x0.1 at 150/180/210. An experiment file adds the two models, the
# student's classifier, the teacher checkpoint and its CAT options. Every
# value is held against the authors' in configs/recipes.yml.
#
# Teacher checkpoints are expected at work_dirs/teachers/<name>.pth: train one
# with configs/vanilla/<name>_1xb64_cifar100.py, or convert the CRD/MDistiller
# teachers with tools/convert_teacher.py. `--cfg-options
# model.teacher_ckpt=None` runs with a randomly initialised teacher instead
# (smoke tests, benchmarks).
_base_ = [
    '../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/algorithms/catkd.py',
]

# MMRazor's distillation loop: every validation evaluates the student, then
# the teacher on the same data (`teacher.accuracy/top1`), which costs one
# teacher pass over the validation set each time
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
