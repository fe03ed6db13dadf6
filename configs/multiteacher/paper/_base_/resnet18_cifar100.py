# torchvision's ResNet-18 (weights=None) with its fc replaced by
# nn.Linear(512, 100), the study's student: MMPretrain's ResNet in
# torchvision's layout, every BN at gamma 1, a biased classifier with
# PyTorch's default init.
_base_ = ['../../../_base_/models/imagenet/resnet18.py']

model = dict(head=dict(num_classes=100))
