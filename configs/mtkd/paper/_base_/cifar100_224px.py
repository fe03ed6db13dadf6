# CIFAR-100 at 224 px as the multi-teacher study's code loads it (Guo et al.,
# ESWA 2025, arXiv 2405.00739;
# zisci2/RethinkKD data_loader/DataLoaderCIFAR.py):
# batch 128, the authors' normalisation (0.4914, 0.4822, 0.4465) /
# (0.2023, 0.1994, 0.2010), and these views of the 32 px images:
#   weak:   RandomResizedCrop(224, scale 0.2-1, bicubic), horizontal flip,
#           RandomRotation(15) (nearest, fill 0);
#   strong: RandomResizedCrop, flip, AutoAugment's CIFAR-10 policy (fill
#           128), Cutout 16 px (fill 0), no rotation (the paper's text adds
#           AutoAugment and Cutout to the weak views; the code drops the
#           rotation, which the configs here follow);
#   base:   RandomResizedCrop alone, the views affinity divides by;
#   test:   Resize(224), bilinear.
_base_ = [
    '../../../_base_/datasets/cifar100_bs64.py',
    '../../_base_/cifar10_autoaugment.py',
]

data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])

crop = dict(
    type='RandomResizedCrop',
    scale=224,
    crop_ratio_range=(0.2, 1.0),
    backend='pillow',
    interpolation='bicubic')
flip = dict(type='RandomFlip', prob=0.5, direction='horizontal')
# uniform angle in [-15, 15]: torchvision RandomRotation(15)
rotate = dict(
    type='Rotate',
    magnitude_range=(0, 15),
    magnitude_std='inf',
    prob=1.0,
    random_negative_prob=0.5,
    pad_val=0)
autoaugment = dict(
    type='AutoAugment',
    policies={{_base_.cifar10_policies}},
    hparams=dict(pad_val=128))
cutout = dict(type='Cutout', shape=16, pad_val=0, prob=1.0)
pack = dict(type='PackInputs')

weak_pipeline = [crop, flip, rotate, pack]
strong_pipeline = [crop, flip, autoaugment, cutout, pack]
base_pipeline = [crop, pack]
test_pipeline = [
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bilinear'),
    pack,
]

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
