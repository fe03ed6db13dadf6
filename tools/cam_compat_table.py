"""Which MMPretrain and timm architecture families can be CAT-KD teachers
and students.

    python tools/cam_compat_table.py   # rewrites docs/cam_compatibility.md
    python tools/cam_compat_table.py --only ResNet Swin --print
    python tools/cam_compat_table.py --only 'timm ConvNeXt' --print

For one model of every family (its smallest ImageNet config, random
weights, a small input) it checks, as ``tools/check_pair.py`` does, whether
the logits equal GAP(CAM) + b (float64, 1e-5) as the config stands; if not
and a config change is known, it applies the change and checks again. A
model that passes can be either side of CAT-KD: teacher and student need the
same property (one linear classifier after average pooling of the last map).
"""
from mmcatkd.cli.cam_compat_table import main

if __name__ == '__main__':
    main()
