# CAT-KD of tiny_teacher.py into tiny_student.py on 32 px digits (10 images)
# with CIFAR's augmentation (RandomCrop 32, padding 4; horizontal flip: 162
# views per image), for the teacher-CAM cache tests (they set
# model.teacher_ckpt and switch to the cache with use_teacher_cams).
_base_ = ['./catkd_tiny.py']
num_classes = 10
data_preprocessor = dict(num_classes=num_classes)
model = dict(
    architecture=dict(head=dict(num_classes=num_classes)),
    teacher=dict(head=dict(num_classes=num_classes)),
    distiller=dict(cat_loss=dict(normalize=False)))
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        type='SklearnDigits',
        split='train',
        num_per_class=1,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SklearnDigits',
        split='test',
        num_per_class=1,
        pipeline=[dict(type='PackInputs')]))
test_dataloader = val_dataloader
