# torchvision's ResNet-18 (weights=None) with its fc replaced by
# nn.Linear(512, 100), the study's student: MMPretrain's ResNet in
# torchvision's layout, every BN at gamma 1, a biased classifier with
# PyTorch's default init.
_base_ = ['../../../_base_/models/imagenet/resnet18.py']

model = dict(
    # the authors' normalisation; CIFAR-100 images are loaded as RGB
    data_preprocessor=dict(
        num_classes=100,
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        to_rgb=False),
    head=dict(num_classes=100))
