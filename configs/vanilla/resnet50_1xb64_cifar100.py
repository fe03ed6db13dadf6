# The resnet50 teacher, trained alone on CIFAR-100 (cross-entropy) with the
# students' schedule (lr 0.05, 240 epochs). The distillation configs read the
# teacher from work_dirs/teachers/resnet50.pth; after training:
#   cp work_dirs/teachers/resnet50/epoch_240.pth \
#      work_dirs/teachers/resnet50.pth
# (or convert the CRD/MDistiller teacher with tools/convert_teacher.py).
_base_ = [
    '../_base_/models/cifar100/resnet50.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_240e.py',
    '../_base_/default_runtime.py',
]
work_dir = './work_dirs/teachers/resnet50'
