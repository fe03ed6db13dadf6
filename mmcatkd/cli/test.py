"""Evaluate a checkpoint on the test set of a config.

    python tools/test.py CONFIG CHECKPOINT [--out results.pkl]
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import os
import os.path as osp
import pickle

from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.engine.cli import CfgOptionsAction, entry_point
from mmcatkd.engine.config_keys import warn_unknown_config_keys
from mmcatkd.utils.atomic_file import atomic_write
from mmcatkd.utils.config import config_model, load_config
from mmcatkd.utils.output_paths import check_output_file


class AtomicDumpResults(DumpResults):
    """MMEngine's ``DumpResults`` writing its pickle atomically."""

    def compute_metrics(self, results: list) -> dict:
        atomic_write(pickle.dumps(results), self.out_file_path)
        return {}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a checkpoint.')
    parser.add_argument(
        'config',
        help='test config file, or PACKAGE::FOLDER/NAME.py of an installed '
        'package (mmcatkd::, mmpretrain::)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument(
        '--out', help='also dump the predictions to this pickle file')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace the --out file if it exists (never an input)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config entries, xxx=yyy (lists: key="[a,b]")')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


@entry_point
def main(argv=None):
    args = parse_args(argv)
    check_output_file(
        args.out,
        dict(config=args.config, checkpoint=args.checkpoint),
        force=args.force)
    # A missing, unsafe or corrupt checkpoint, a bad config or missing data
    # end with one sentence.
    cfg = load_config(args.config)
    config_model(cfg)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    warn_unknown_config_keys(cfg, 'test.py')
    # MMEngine loads load_from non-strictly: a checkpoint of another
    # model would be evaluated with random weights where keys differ.
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='CheckpointMatchHook', on_load_from=True)
    ]
    mmcatkd.datasets.check_datasets(cfg, ('test_dataloader', ))
    runner = (
        Runner.from_cfg(cfg)
        if 'runner_type' not in cfg else RUNNERS.build(cfg))
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            AtomicDumpResults(out_file_path=args.out))
    return runner.test()
