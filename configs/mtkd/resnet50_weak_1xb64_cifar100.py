# A CIFAR ResNet-50 teacher trained alone (cross-entropy) with the weak
# augmentation of ./_base_/augment_32px.py, the CIFAR-100 schedule (240
# epochs). The paper fine-tunes ImageNet-pretrained ResNet-50s at 224 px; at
# 32 px the teachers are trained from scratch. Train three with different
# seeds for the 1T/2T/3T students, e.g.
#   python tools/train.py \
#       configs/mtkd/resnet50_weak_1xb64_cifar100.py \
#       --cfg-options randomness.seed=2 \
#       --work-dir work_dirs/multiteacher/teachers/resnet50_weak_2
#   cp work_dirs/multiteacher/teachers/resnet50_weak_2/epoch_240.pth \
#      work_dirs/multiteacher/teachers/resnet50_weak_2.pth
_base_ = [
    '../_base_/models/cifar100/resnet50.py',
    './_base_/cifar100_weak.py',
    '../_base_/schedules/cifar100_240e.py',
    '../_base_/default_runtime.py',
]
randomness = dict(seed=1)
work_dir = './work_dirs/multiteacher/teachers/resnet50_weak_1'
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='ExpectedCalibrationError', num_bins=10, unweighted=True),
]
test_evaluator = val_evaluator
