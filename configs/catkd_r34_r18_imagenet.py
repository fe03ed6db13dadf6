# The mission's command names this path:
#   python tools/train.py configs/catkd_r34_r18_imagenet.py
# It is CAT-KD ResNet-34 -> ResNet-18 on ImageNet-1k, kept here as a thin
# alias of its file in the CAT-KD folder (the same config, key for key).
_base_ = ['./catkd/catkd_resnet34_resnet18_8xb64_in1k.py']
