# CAT-KD, ResNet-50 -> MobileNetV1 on ImageNet-1k (the paper's settings):
# CE + 10 * CAT on l2-normalised CAMs pooled from 7x7 to 2x2; 100 epochs,
# lr 0.2 for a total batch of 512 (8 GPUs x 64; --auto-scale-lr otherwise).
# (The authors' file for this pair is named r50_mv2; its student is the
# MobileNetV1 of ReviewKD/DKD.)
_base_ = ['./_base_/catkd_in1k.py']

model = dict(
    architecture=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/mobilenetv1.py',
        head={{_base_.conv_test_default}}),
    teacher=dict(
        cfg_path='{{fileDirname}}/../_base_/models/imagenet/resnet50.py'),
    # The paper's teacher: torchvision's resnet50 IMAGENET1K_V1 (76.16 top-1),
    # downloaded to the torch hub cache on first use and converted while
    # loading. MMPretrain's model-zoo ResNet-50 (76.55) loads as it is:
    # --cfg-options model.teacher_ckpt=https://download.openmmlab.com/...
    # (docs/model_zoo.md).
    teacher_ckpt='torchvision://resnet50.imagenet1k_v1',
    distiller=dict(
        cat_loss=dict(loss_weight=10, resolution=2, normalize=True)))
