# resnet8x4 trained alone on CIFAR-100 (cross-entropy, the paper's "student"
# column) with the students' schedule. Also the config to test a CAT-KD
# student exported by tools/export_student.py:
#   python tools/test.py configs/vanilla/resnet8x4_1xb64_cifar100.py \
#       student.pth
_base_ = [
    '../_base_/models/cifar100/resnet8x4.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_240e.py',
    '../_base_/default_runtime.py',
]
