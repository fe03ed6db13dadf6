# torchvision's ResNet-50 with its fc replaced by nn.Linear(2048, 100), the
# study's teacher: MMPretrain's ResNet in torchvision's layout. The teacher
# configs start it from torchvision's ImageNet weights.
_base_ = ['../../../_base_/models/imagenet/resnet50.py']

model = dict(head=dict(num_classes=100))
