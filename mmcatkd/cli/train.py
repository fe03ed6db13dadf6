"""Train a model (plain MMPretrain or an MMRazor distillation) with MMEngine.

    python tools/train.py configs/catkd_r34_r18_imagenet.py
    python tools/train.py CONFIG --resume            # latest checkpoint
    tools/dist_train.sh CONFIG 8                     # 8 GPUs, one node

Every run is made crash-safe and exactly resumable (mmcatkd.engine, see
docs/reliability.md); bad input ends with one sentence, not a traceback.
A new run never starts over another run's checkpoints (--resume it, or
--force), and two runs never share a work directory (mmcatkd.engine.work_dir).
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.device import get_device
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.cam_cache import use_teacher_cams
from mmcatkd.engine import enable_reliability
from mmcatkd.engine.cli import CfgOptionsAction, entry_point
from mmcatkd.engine.config_keys import warn_unknown_config_keys
from mmcatkd.engine.resume import newest_checkpoint
from mmcatkd.engine.work_dir import claim_work_dir, launcher_rank
from mmcatkd.utils.config import config_model, load_config
from mmcatkd.utils.errors import ConfigError
from mmcatkd.utils.output_paths import check_output_folder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model.')
    parser.add_argument(
        'config',
        help='train config file, or PACKAGE::FOLDER/NAME.py of an installed '
        'package (mmcatkd::, mmpretrain::)')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint, or, with no path, from the latest '
        'checkpoint in the work directory')
    parser.add_argument(
        '--force',
        action='store_true',
        help='start a new run in a work directory that holds the checkpoints '
        'of an earlier run (they may be overwritten or deleted)')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size '
        '(auto_scale_lr.base_batch_size in the config is the reference)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config entries, xxx=yyy (lists: key="[a,b]")')
    parser.add_argument(
        '--teacher-cams',
        metavar='DIR',
        help='CAT-KD with the teacher CAMs read from this cache (built by '
        'tools/cache_teacher_cams.py): the teacher never runs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if get_device() == 'cpu':
            raise ConfigError(
                '--amp needs a GPU (CUDA, NPU, MLU or MUSA) and this machine '
                'has none: leave out --amp (training on the CPU runs in '
                'fp32).')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_cams:
        cfg = use_teacher_cams(cfg, args.teacher_cams)
    if args.auto_scale_lr:
        # After --cfg-options, which may give auto_scale_lr.base_batch_size.
        if 'auto_scale_lr' not in cfg:
            raise ConfigError('--auto-scale-lr needs auto_scale_lr = '
                              'dict(base_batch_size=...) in the config.')
        cfg.auto_scale_lr.enable = True
    return cfg


def resolve_resume(cfg: Config, args: argparse.Namespace) -> Config:
    """``--resume`` without a path and no ``last_checkpoint``: continue
    from the newest ``epoch_*``/``iter_*`` checkpoint (said on stderr), or
    stop when there is none (never train from scratch over them)."""
    if args.resume != 'auto':
        return cfg
    checkpoint = newest_checkpoint(cfg.work_dir)
    if checkpoint is not None:
        cfg.load_from = checkpoint
        if os.environ.get('RANK', '0') == '0':
            print(
                f'train.py: no last_checkpoint in {cfg.work_dir}: resuming '
                f'from its newest checkpoint, {checkpoint}',
                file=sys.stderr)
    return cfg


@entry_point
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    config_model(cfg)
    cfg = merge_args(cfg, args)
    check_output_folder(cfg.work_dir, {
        'config': args.config,
        'teacher-CAM cache': args.teacher_cams
    })
    cfg = resolve_resume(cfg, args)
    warn_unknown_config_keys(cfg, 'train.py')
    cfg = enable_reliability(cfg)
    mmcatkd.datasets.check_datasets(cfg)
    with claim_work_dir(
            cfg.work_dir,
            new_run=not cfg.get('resume'),
            force=args.force,
            rank=launcher_rank(args.launcher)):
        runner = (
            Runner.from_cfg(cfg)
            if 'runner_type' not in cfg else RUNNERS.build(cfg))
        runner.train()
