# The paper's unseen-class experiment (Guo et al., CVPR 2023, Sec. 4.2,
# Fig. 4-right) on scikit-learn's digits: the ResNet-20 student learns by CAT
# alone (no labels) from the demo's ResNet-56 teacher, which was trained on
# all ten digits, but sees only the training images of digits 0-7; it is
# tested on all ten, and UnseenClassAccuracy reports 8 and 9 separately.
# Everything else (beta 0.2, unnormalised 2x2 maps, 300 steps) as the demo's
# CAT-alone student (configs/demo/cat_resnet56_resnet20_1xb16_digits.py,
# where the choice of beta and normalisation is explained). The teacher
# checkpoint is stage 1 of tools/demo.py (or tools/train.py
# configs/demo/resnet56_1xb32_digits.py --work-dir work_dirs/demo/teacher).
_base_ = ['./cat_resnet56_resnet20_1xb16_digits.py']

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
# the CAT loss and top-1 CAM IoU of student vs teacher at every validation
custom_hooks = [dict(type='CAMAgreementHook')]
# validate every 100 steps so that the log shows the agreement grow
train_cfg = dict(val_interval=100)
