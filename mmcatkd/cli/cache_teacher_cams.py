"""Compute the teacher CAMs of every view of every training image, once.

    python tools/cache_teacher_cams.py CONFIG --out work_dirs/cams/r32x4
    torchrun --nproc_per_node 8 tools/cache_teacher_cams.py CONFIG \\
        --out DIR --launcher pytorch             # 8 GPUs share the chunks
    srun -n 4 python tools/cache_teacher_cams.py CONFIG --out DIR \\
        --launcher slurm

CONFIG is a CAT-KD config (``CATDistill`` or ``CachedCATDistill``) with the
trained teacher's ``teacher_ckpt``. Its train pipeline must have finitely
many views (RandomCrop with constant padding, horizontal RandomFlip: 81 x 2
for CIFAR); continuous random transforms, batch augments, binarised and
partial CAT are refused. The size is printed before anything is computed,
and a disk without room is refused. A killed run keeps its finished chunks:
run the same command again. A folder that holds other files (no cache
manifest) is refused. Train with the cache through
``CachedCATDistill(teacher_cams=DIR)`` (see docs/performance.md).
"""
import argparse

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.cam_cache.commands import LAUNCHERS, build_cache
from mmcatkd.cam_cache.format import DTYPES
from mmcatkd.engine.cli import CfgOptionsAction, entry_point


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a CAT-KD train config')
    parser.add_argument('--out', required=True, help='the cache directory')
    parser.add_argument(
        '--dtype',
        choices=DTYPES,
        default='float16',
        help='stored precision (default float16: half the disk; the loss '
        'reads fp16 CAMs to within fp16 rounding)')
    parser.add_argument(
        '--chunk-images',
        type=int,
        default=256,
        help='images per chunk, the unit of restart and sharding')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=512,
        help='views per teacher forward (default 512)')
    parser.add_argument(
        '--device', help='cpu or cuda (default: this rank\'s GPU if any)')
    parser.add_argument(
        '--launcher',
        choices=LAUNCHERS,
        default='none',
        help='how the processes were started: torchrun / '
        'tools/dist_*.sh (pytorch) or srun (slurm); each takes every '
        'WORLD_SIZE-th chunk')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config entries, xxx=yyy')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


@entry_point
def main(argv=None) -> dict:
    args = parse_args(argv)
    return build_cache(args.config, args.out, args.dtype, args.chunk_images,
                       args.batch_size, args.device, args.launcher,
                       args.cfg_options)
