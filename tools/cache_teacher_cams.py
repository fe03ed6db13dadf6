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
import os
import sys

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
import torch
from mmengine.config import Config

from mmcatkd.apis.teacher_cam_cache import CacheBuilder
from mmcatkd.engine.cli import CfgOptionsAction, entry_point
from mmcatkd.utils.cam_cache import MANIFEST
from mmcatkd.utils.output_paths import check_output_folder


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a CAT-KD train config')
    parser.add_argument('--out', required=True, help='the cache directory')
    parser.add_argument(
        '--dtype',
        choices=['float16', 'float32'],
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
        choices=['none', 'pytorch', 'slurm'],
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


def rank_and_world(launcher: str):
    """(rank, world size, local rank) from the launcher's environment."""
    if launcher == 'pytorch':
        return (int(os.environ['RANK']), int(os.environ['WORLD_SIZE']),
                int(os.environ.get('LOCAL_RANK', 0)))
    if launcher == 'slurm':
        return (int(os.environ['SLURM_PROCID']),
                int(os.environ['SLURM_NTASKS']),
                int(os.environ.get('SLURM_LOCALID', 0)))
    return 0, 1, 0


@entry_point
def main(argv=None) -> dict:
    args = parse_args(argv)
    rank, world_size, local_rank = rank_and_world(args.launcher)
    device = args.device or (f'cuda:{local_rank}'
                             if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # Only rank 0 creates the cache: the others may find its array before
    # its manifest.
    check_output_folder(
        args.out,
        dict(config=args.config,
             checkpoint=cfg.get('model', {}).get('teacher_ckpt')),
        option='--out',
        marker=MANIFEST if rank == 0 else None,
        holds='a teacher-CAM cache')
    mmcatkd.datasets.check_datasets(cfg, ('train_dataloader', ))
    builder = CacheBuilder(cfg, args.out, args.dtype, args.chunk_images,
                           device)
    shape = builder.shape
    print(
        f'{args.out}: {shape[0]} images x {shape[1]} views x '
        f'{shape[2]} classes x {shape[3]}x{shape[4]} in '
        f'{args.dtype}: {builder.nbytes / 2**30:.3f} GiB '
        f'({shape[0] * shape[1]} teacher forwards)',
        flush=True)
    summary = builder.build(
        rank,
        world_size,
        args.batch_size,
        log=lambda line: print(line, file=sys.stderr, flush=True))
    state = 'complete' if summary['complete'] else 'other ranks still busy'
    print(f"rank {rank}: {summary['chunks']} chunks, {summary['views']} views "
          f"in {summary['seconds']:.1f} s; cache {state}")
    return summary


if __name__ == '__main__':
    main()
