# CAT alone with unseen classes (Guo et al., CVPR 2023, Sec. 4.2,
# Fig. 4-right; the authors' REDUCTION=True, RESERVED_CLASS_NUM=99,
# RESERVED_RATE=1.0): a resnet32x4 student learns from a resnet32x4 teacher's
# CAMs on the training images of classes 0-98 only, never a label, and is
# tested on all 100 classes; UnseenClassAccuracy reports class 99 apart.
# Same models and CAT options as cat_resnet32x4_resnet32x4_1xb64_cifar100.py
# (beta 50, 2x2, normalised). The authors keep the first images of each
# class; with rate < 1 ReducedClassDataset draws them with `seed` instead.
_base_ = ['./cat_resnet32x4_resnet32x4_1xb64_cifar100.py']

seen_classes = list(range(99))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ReducedClassDataset',
        dataset={{_base_.train_dataloader.dataset}},
        classes=seen_classes,
        rate=1.0,
        seed=0))
val_evaluator = dict(
    _delete_=True, type='UnseenClassAccuracy', seen_classes=seen_classes)
test_evaluator = val_evaluator
custom_hooks = [dict(type='CAMAgreementHook')]
