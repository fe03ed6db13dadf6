# The weak and strong training augmentations of Guo et al. (ESWA 2025,
# arXiv 2405.00739), at 32 px. The paper trains on 224 px images:
#   weak:   RandomResizedCrop(224, scale 0.2-1, bicubic), horizontal flip,
#           rotation uniform in +-15 degrees (fill 0);
#   strong: the same + AutoAugment's CIFAR-10 policy + Cutout 16 px.
# The 32 px equivalents keep every relative quantity (crop area, aspect,
# angles, AutoAugment magnitudes, which are fractions of the side) and scale
# the one absolute size: Cutout 16 px of 224 is 1/14 of the side, 2 px at 32
# (16 px, DeVries and Taylor's CIFAR-10 setting, would cut half the side).
# The authors' released CIFAR loader leaves the rotation out of the strong
# pipeline; the paper's text (followed here) adds AutoAugment and Cutout to
# the weak one.
_base_ = ['./cifar10_autoaugment.py']

cutout_size = 2  # 16 px at 224 px

crop = dict(
    type='RandomResizedCrop',
    scale=32,
    crop_ratio_range=(0.2, 1.0),
    interpolation='bicubic')
flip = dict(type='RandomFlip', prob=0.5, direction='horizontal')
# uniform angle in [0, 15] with a random sign: torchvision RandomRotation(15)
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
cutout = dict(type='Cutout', shape=cutout_size, pad_val=0, prob=1.0)
pack = dict(type='PackInputs')

weak_pipeline = [crop, flip, rotate, pack]
# the views affinity divides by (the authors' "base" views): the crop alone
base_pipeline = [crop, pack]
strong_pipeline = [crop, flip, rotate, autoaugment, cutout, pack]
# for digits, whose mirror images are other digits (or none)
weak_pipeline_noflip = [crop, rotate, pack]
strong_pipeline_noflip = [crop, rotate, autoaugment, cutout, pack]
