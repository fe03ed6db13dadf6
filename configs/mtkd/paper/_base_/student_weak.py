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

# validation, the authors' phases (a MultiTeacherDistill built with
# attach_teacher_outputs=True; CAM IoU with the teachers' CAMs in eval mode
# and the per-batch mean of IoU/calculate-IoU.py):
# `val`: the balanced test split through the test pipeline;
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
# `val_aug` (metrics prefixed val_aug/): the test split through the
# student's training augmentation, batch 128, last partial batch dropped
# (their my_validate_aug and IoU script)
val_aug_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=dict(
        type='CIFAR100',
        data_root='data/cifar100',
        split='test',
        download=False,
        pipeline={{_base_.weak_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
    drop_last=True)
val_cfg = dict(
    type='AugmentedValLoop',
    aug_dataloader=val_aug_dataloader,
    aug_evaluator=[
        dict(type='Accuracy', topk=(1, 5)),
        dict(type='TeacherFidelity'),
        dict(type='CAMIoU', threshold=0.4),
    ])
# `train`: fidelity over the training batches as they train (student in
# train mode) from the epoch of the first lr drop, their lr_steps[0] - 1
custom_hooks = [dict(type='TrainFidelityHook', start_epoch=189)]
# tools/test.py: the training split through the training augmentation in
# eval mode, as the authors' ECE and IoU scripts measure (`train` phase)
test_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
    dict(type='TeacherFidelity'),
    dict(type='CAMIoU', threshold=0.4),
]
