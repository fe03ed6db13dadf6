"""Average the best top-1 of several runs, as the CAT-KD paper reports.

    python tools/average_best.py work_dirs/catkd_r8x4_seed{0,1,2,3,4}

Guo et al. (CVPR 2023) report each run's best test top-1, on CIFAR-100 the
mean over 5 runs (github.com/GzyAftermath/CAT-KD/issues/7; how many runs
the ImageNet numbers average is not stated): the authors' trainer validates
every epoch and keeps ``best_acc``. Each work dir's best is read from the
validation scalars MMEngine logs
(``<work_dir>/<timestamp>/vis_data/scalars.json``; a resumed run's several
timestamps count as one run), with the top-5 of the same validation.
"""
import argparse
import glob
import json
import os.path as osp
import statistics
from typing import Dict, List

import mmcatkd  # noqa: F401  (one-sentence errors; registration unused)
from mmcatkd.engine.cli import entry_point
from mmcatkd.utils.errors import ConfigKeyError


def validations(work_dir: str) -> List[Dict]:
    """Every validation record of the run in ``work_dir``, oldest first."""
    records = []
    paths = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not paths:
        raise FileNotFoundError(
            f'{work_dir} holds no */vis_data/scalars.json: give the work '
            'directory of a run that validated at least once.')
    for path in paths:
        with open(path) as file:
            records += [json.loads(line) for line in file if line.strip()]
    return records


def best_of_run(work_dir: str, key: str = 'accuracy/top1') -> Dict:
    """``{'work_dir', 'best', 'step', 'top5'}`` of the best validation."""
    scored = [record for record in validations(work_dir) if key in record]
    if not scored:
        raise ConfigKeyError(
            f'{work_dir} logged no {key}: check the metric name '
            '(--key).')
    best = max(scored, key=lambda record: record[key])
    return dict(
        work_dir=work_dir,
        best=best[key],
        step=best.get('step'),
        top5=best.get(key.replace('top1', 'top5')) if 'top1' in key else None)


@entry_point
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', help='one per run')
    parser.add_argument(
        '--key', default='accuracy/top1', help='the validation metric')
    args = parser.parse_args(argv)
    runs = [best_of_run(work_dir, args.key) for work_dir in args.work_dirs]
    for run in runs:
        top5 = '' if run['top5'] is None else f', top-5 {run["top5"]:.2f}'
        print(f'{run["work_dir"]}: best {args.key} {run["best"]:.2f} at '
              f'epoch {run["step"]}{top5}')
    scores = [run['best'] for run in runs]
    spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
    print(f'mean of {len(scores)} runs: {statistics.mean(scores):.2f} '
          f'(std {spread:.2f})')
    return runs
