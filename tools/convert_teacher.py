"""Convert a reference teacher checkpoint into an MMPretrain checkpoint.

    python tools/convert_teacher.py mdistiller \
        download_ckpts/cifar_teachers/resnet32x4_vanilla/ckpt_epoch_240.pth \
        checkpoints/resnet32x4_cifar100.pth \
        --model configs/_base_/models/cifar100/resnet32x4.py
    python tools/convert_teacher.py torchvision resnet34-b627a593.pth \
        checkpoints/resnet34_in1k.pth \
        --model configs/_base_/models/imagenet/resnet34.py

``mdistiller`` reads CRD / MDistiller checkpoints (``{'model': state_dict}``);
``torchvision`` reads a torchvision state dict (ResNets: torchvision has no
MobileNetV1). The result loads with ``load_checkpoint(model, DST,
strict=True)``; see :mod:`mmcatkd.converters.teacher`.
"""
from mmcatkd.cli.convert_teacher import main

if __name__ == '__main__':
    main()
