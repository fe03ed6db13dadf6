"""Automatic beta against the demo's hand-chosen beta, on the digits.

For each number of labelled digits per class and each seed, two runs of
``tools/demo.py`` sharing one teacher: the hand-chosen beta (baseline,
CAT-KD, CAT alone) and ``--beta auto`` (CAT-KD, CAT alone). A finished run
(its results.json exists) is not run again, so the study can be stopped
and restarted. Writes ``summary.md`` (the table of docs/your_own_pair.md)
and ``summary.json`` in the work directory.

    python tools/beta_study.py                           # work_dirs/beta_study
    python tools/beta_study.py --per-class 10 3 --seeds 0 1 2 --beta 0.2
    python tools/beta_study.py --per-class 10 \\
        --teacher-config configs/demo/convnext-micro_1xb32_digits.py
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

from mmcatkd.engine.cli import entry_point
from mmcatkd.utils.atomic_file import atomic_json_dump, atomic_write
from mmcatkd.utils.output_paths import check_output_folder
from mmcatkd.utils.project_files import project_file

DEMO = project_file('tools', 'demo.py')
METHODS = (('baseline', 'baseline'), ('catkd', 'CAT-KD'), ('cat_only',
                                                           'CAT alone'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/beta_study')
    parser.add_argument('--per-class', type=int, nargs='+', default=[10, 3])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--beta', default='0.2', help='the hand-chosen beta')
    parser.add_argument('--teacher-config', help='as tools/demo.py')
    parser.add_argument(
        '--teacher-dir', help='as tools/demo.py (default '
        'WORK_DIR/teacher)')
    parser.add_argument(
        '--summary-only',
        action='store_true',
        help='tabulate the finished runs, start none')
    return parser.parse_args(argv)


def runs(args):
    """(name, demo.py options) of every run, seeds innermost-last so that a
    stopped study has every setting's first seeds."""
    for seed in args.seeds:
        for per_class in args.per_class:
            for beta, stages in ((args.beta, 'baseline,catkd,cat_only'),
                                 ('auto', 'catkd,cat_only')):
                name = f'n{per_class}_seed{seed}_beta{beta}'
                yield name, [
                    '--num-per-class',
                    str(per_class), '--seed',
                    str(seed), '--beta', beta, '--stages', stages
                ]


def summarise(args, work_dir: str) -> dict:
    """Top-1 per (per_class, method, beta) and seed; auto betas chosen."""
    table = {}
    for name, options in runs(args):
        path = osp.join(work_dir, name, 'results.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            result = json.load(f)
        per_class = result['setting']['labelled_per_class']
        seed = result['setting']['seed']
        beta = options[options.index('--beta') + 1]
        for stage in result['stages'][1:]:
            key = (per_class, stage['key'],
                   'none' if stage['key'] == 'baseline' else beta)
            row = table.setdefault(key, dict(top1={}, betas={}))
            row['top1'][seed] = stage['top1']
            if 'auto_beta' in stage:
                row['betas'][seed] = stage['auto_beta']
    return table


def markdown(args, table: dict) -> str:
    lines = [
        '| labelled / class | method | beta | ' +
        ' | '.join(f'seed {s}'
                   for s in args.seeds) + ' | mean | betas chosen |',
        '|---|---|---|' + '---:|' * (len(args.seeds) + 1) + '---|'
    ]
    for per_class in args.per_class:
        for key, label in METHODS:
            for beta in (('none', ) if key == 'baseline' else
                         (args.beta, 'auto')):
                row = table.get((per_class, key, beta))
                if row is None:
                    continue
                top1 = [row['top1'].get(s) for s in args.seeds]
                cells = ['—' if v is None else f'{v:.2f}' for v in top1]
                done = [v for v in top1 if v is not None]
                mean = f'{statistics.mean(done):.2f}' if done else '—'
                betas = ', '.join(f'{row["betas"][s]:.3g}' for s in args.seeds
                                  if s in row['betas'])
                lines.append(f'| {per_class} | {label} | '
                             f'{"—" if beta == "none" else beta} | ' +
                             ' | '.join(cells) +
                             f' | {mean} | {betas or "—"} |')
    return '\n'.join(lines)


@entry_point
def main(argv=None):
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    teacher_dir = args.teacher_dir or osp.join(work_dir, 'teacher')
    inputs = {'teacher config': args.teacher_config}
    check_output_folder(args.work_dir, inputs)
    check_output_folder(teacher_dir, inputs, option='--teacher-dir')
    os.makedirs(work_dir, exist_ok=True)
    for name, options in runs(args):
        run_dir = osp.join(work_dir, name)
        if args.summary_only or osp.isfile(osp.join(run_dir, 'results.json')):
            continue
        command = [
            sys.executable, DEMO, '--work-dir', run_dir, '--teacher-dir',
            teacher_dir, *options
        ]
        if args.teacher_config:
            command += ['--teacher-config', args.teacher_config]
        print('running', ' '.join(command), flush=True)
        # streamed while the run goes: not atomic (a log, not a result)
        with open(osp.join(work_dir, f'{name}.log'), 'w') as log:
            subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, check=True)
    table = summarise(args, work_dir)
    atomic_json_dump([
        dict(per_class=k[0], method=k[1], beta=k[2], **v)
        for k, v in table.items()
    ],
                     osp.join(work_dir, 'summary.json'),
                     indent=2)
    text = markdown(args, table)
    atomic_write(text + '\n', osp.join(work_dir, 'summary.md'))
    print(text)
