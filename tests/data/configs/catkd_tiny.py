# CAT-KD of tiny_teacher.py into tiny_student.py: the experiment file names
# both models by their config files and says only what CAT-KD adds.
_base_ = ['./tiny_student.py']
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='CATDistill',
    architecture=dict(cfg_path='{{fileDirname}}/tiny_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/tiny_teacher.py'),
    teacher_ckpt=None,
    distiller=dict(
        type='CAMDistiller',
        cat_loss=dict(loss_weight=1.0, resolution=2, normalize=True)))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
