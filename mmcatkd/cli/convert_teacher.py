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
import argparse

import mmcatkd  # noqa: F401  (safe checkpoint loader, first)
from mmcatkd.converters import SOURCES, convert_teacher
from mmcatkd.engine.cli import entry_point
from mmcatkd.utils.output_paths import check_output_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an MDistiller/CRD or torchvision checkpoint '
        'for an mmcatkd model config.')
    parser.add_argument('source', choices=SOURCES, help='checkpoint format')
    parser.add_argument('src', help='the reference checkpoint')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument(
        '--model',
        required=True,
        help='config file whose `model` the checkpoint is for, e.g. '
        'configs/_base_/models/cifar100/resnet32x4.py')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace DST if it exists (never SRC)')
    return parser.parse_args(argv)


@entry_point
def main(argv=None):
    args = parse_args(argv)
    check_output_file(
        args.dst,
        dict(checkpoint=args.src, config=args.model),
        option='the output',
        force=args.force)
    checkpoint = convert_teacher(args.source, args.src, args.dst, args.model)
    print(f'{args.dst}: {len(checkpoint["state_dict"])} tensors from '
          f'{args.src} for {args.model}')
