# Reference for cat_unseen_resnet56_resnet20_1xb32_digits.py: the same
# ResNet-20, data (training images of digits 0-7 only), batch and schedule,
# but trained with cross-entropy on the labels instead of the teacher's CAMs.
_base_ = ['./resnet20_1xb16_digits.py']

seen_classes = [0, 1, 2, 3, 4, 5, 6, 7]

train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _delete_=True,
        type='ReducedClassDataset',
        dataset=dict(
            type='SklearnDigits',
            split='train',
            pipeline={{_base_.train_pipeline}}),
        classes=seen_classes,
        rate=1.0,
        seed=0))
val_evaluator = dict(
    _delete_=True, type='UnseenClassAccuracy', seen_classes=seen_classes)
test_evaluator = val_evaluator
