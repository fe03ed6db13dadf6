# CAT-KD of the tiny models written as a user of another OpenMMLab project
# writes it: the runtime from an installed package (`mmpretrain::`, which
# MMEngine resolves before it runs custom_imports), mmcatkd through
# custom_imports. tests/tools/test_openmmlab_tools.py runs it with MMRazor's
# own tools/train.py and tools/test.py.
_base_ = ['mmpretrain::_base_/default_runtime.py', './tiny_data.py']
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)

model = dict(
    _scope_='mmrazor',
    type='CATDistill',
    architecture=dict(cfg_path='{{fileDirname}}/tiny_student.py'),
    teacher=dict(cfg_path='{{fileDirname}}/tiny_teacher.py'),
    teacher_ckpt=None,
    distiller=dict(type='CAMDistiller', cat_loss=dict(loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1))
