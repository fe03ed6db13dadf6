# The weakly augmented student (S_w): trains on the weak views, and
# tools/test.py measures it as the authors' ECE script does: on the training
# split through the same augmentation (the validation split through the test
# pipeline stays in val_evaluator).
_base_ = ['./cifar100_224px.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.weak_pipeline}}))
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=dict(
        type='CIFAR100',
        data_root='data/cifar100',
        split='train',
        download=False,
        pipeline={{_base_.weak_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False))

# validation: the balanced test split through the test pipeline; with a
# MultiTeacherDistill built with attach_teacher_outputs=True
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
# tools/test.py: the training split through the training augmentation, as
# the authors' ECE script measures
test_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
]
