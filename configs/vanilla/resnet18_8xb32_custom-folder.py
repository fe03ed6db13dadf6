# The student of the own-pair example trained alone: MMPretrain's ResNet-18,
# its backbone starting from MMPretrain's ImageNet weights, fine-tuned with
# cross-entropy on your image folder (the baseline CAT-KD should beat). Also
# the config to test the CAT-KD student exported by tools/export_student.py:
#   python tools/test.py configs/vanilla/resnet18_8xb32_custom-folder.py \
#       student.pth
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/custom_folder_bs32.py',
    '../_base_/schedules/finetune_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            # MMPretrain's resnet18_8xb32_in1k (69.90 top-1 on ImageNet)
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth',
            prefix='backbone')),
    head=dict(num_classes={{_base_.num_classes}}))
