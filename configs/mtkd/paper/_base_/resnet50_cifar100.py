# torchvision's ResNet-50 with its fc replaced by nn.Linear(2048, 100), the
# study's teacher: MMPretrain's ResNet in torchvision's layout. The teacher
# configs start it from torchvision's ImageNet weights.
_base_ = ['../../../_base_/models/imagenet/resnet50.py']

model = dict(
    # the authors' normalisation; CIFAR-100 images are loaded as RGB
    data_preprocessor=dict(
        num_classes=100,
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        to_rgb=False),
    head=dict(num_classes=100))
