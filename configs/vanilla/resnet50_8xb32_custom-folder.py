# The teacher of the own-pair example
# (configs/catkd/catkd_resnet50_resnet18_8xb32_custom-folder.py):
# MMPretrain's ResNet-50, its backbone starting from MMPretrain's ImageNet
# weights, fine-tuned with cross-entropy on your image folder. The
# distillation config reads it from work_dirs/teachers/; after training:
#   cp work_dirs/teachers/resnet50_custom-folder/epoch_30.pth \
#      work_dirs/teachers/resnet50_custom-folder.pth
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/custom_folder_bs32.py',
    '../_base_/schedules/finetune_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            # MMPretrain's resnet50_8xb32_in1k (76.55 top-1 on ImageNet)
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
            prefix='backbone')),
    # a new classifier for your classes
    head=dict(num_classes={{_base_.num_classes}}))
work_dir = './work_dirs/teachers/resnet50_custom-folder'
