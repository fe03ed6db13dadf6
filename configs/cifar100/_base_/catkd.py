# What every CAT-KD experiment on CIFAR-100 shares (paper Sec. 5, the
# authors' configs): cross-entropy (weight 1) + beta * CAT, batch 64, 240
# epochs, lr x0.1 at 150/180/210. An experiment file adds the two models, the
# teacher checkpoint and its CAT options.
#
# Teacher checkpoints are expected at work_dirs/teachers/<name>.pth: train one
# with configs/cifar100/teachers/<name>.py, or convert the CRD/MDistiller
# teachers with tools/convert_teacher.py. `--cfg-options
# model.teacher_ckpt=None` runs with a randomly initialised teacher instead
# (smoke tests, benchmarks).
_base_ = [
    '../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='CATDistill',
    teacher_ckpt=None,
    # False: CAT alone; labels are then never read (the paper's CAT runs)
    calculate_student_loss=True,
    distiller=dict(
        type='CAMDistiller',
        cat_loss=dict(
            loss_weight=1.0,
            resolution=2,
            normalize=False,
            binarize=False,
            num_selected=None,
            selection='top')))

# validates the student and, once per run, reports the teacher too
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
