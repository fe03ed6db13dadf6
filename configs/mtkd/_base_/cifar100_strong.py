# CIFAR-100 (batch 64) trained with the strong augmentation of
# ./augment_32px.py (weak + AutoAugment CIFAR-10 policy + Cutout).
_base_ = ['./augment_32px.py', '../../_base_/datasets/cifar100_bs64.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.strong_pipeline}}))
