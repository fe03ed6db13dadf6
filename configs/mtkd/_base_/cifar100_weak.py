# CIFAR-100 (batch 64) trained with the weak augmentation of ./augment_32px.py.
_base_ = ['./augment_32px.py', '../../_base_/datasets/cifar100_bs64.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.weak_pipeline}}))
