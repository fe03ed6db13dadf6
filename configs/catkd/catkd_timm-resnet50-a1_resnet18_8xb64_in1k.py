# CAT-KD from a timm teacher, ResNet-50 (timm's resnet50.a1_in1k, "ResNet
# strikes back" A1 weights) -> ResNet-18 on ImageNet-1k, with the recipe of
# catkd_resnet34_resnet18_8xb64_in1k.py: CE + 0.5 * CAT on CAMs pooled from
# 7x7 to 2x2, not normalised; 100 epochs, lr 0.2 for a total batch of 512
# (8 GPUs x 64; --auto-scale-lr otherwise). Not a pair of the paper.
_base_ = ['./_base_/catkd_in1k.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/resnet18.py',
        head={{_base_.conv_test_fan_out}}),
    # timm's ResNet-50 with its classifier moved into the head, so its CAMs
    # are exact (GAP + one linear layer; docs/cam_compatibility.md). timm
    # loads its weights: from the Hugging Face cache, the hub on first use,
    # or a local file with pretrained_cfg_overlay=dict(file=PATH). It was
    # trained on ImageNet's mean/std, the student's normalisation here, at
    # 224 px (timm evaluates it at 288; the teacher sees 224 px crops here).
    teacher=dict(cfg_path='timm://resnet50.a1_in1k'),
    # the weights are timm's: no checkpoint loads over them
    teacher_ckpt=None,
    distiller=dict(
        cat_loss=dict(loss_weight=0.5, resolution=2, normalize=False)))
