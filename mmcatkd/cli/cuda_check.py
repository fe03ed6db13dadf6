"""Everything a GPU changes about CAT-KD, checked on one GPU, with a table.

    python tools/cuda_check.py --out cuda_check.json     # make cuda-check
    python tools/cuda_check.py --device cpu              # a dry run here

Checks, in this order, each timed, each failing on its own (the table says
which and why), the whole run kept under ``--budget`` seconds (default 450,
under 8 minutes with start-up; a check that would start past the budget is
reported as skipped):

  fp16, bf16       a CAT-KD loss + backward under autocast equals fp32
  channels_last    CATDistill(channels_last=True) equals the default layout
  nccl             tools/dist_train.sh, 1 GPU, NCCL, two iterations of the
                   digits demo's CAT-KD config (gloo on the CPU)
  r34-r18 fp32     tools/benchmark.py --pair r34-r18 --batch-size 64:
  r34-r18 amp      student, logit KD, CAT-KD, cached CAT-KD step times,
                   and each step's ratio to its FLOP floor (counted FLOPs /
                   the measured matmul peak, TF32 for fp32, fp16 for AMP)
  compile          torch.compile (inductor) of the CAT-KD forward equals
                   eager

Agreement checks run resnet32x4 -> shufflenetv1 at batch 64 (with --device
cpu the 2-stage ResNets of configs/_base_/dry_run/ at batch 4) with
TF32 off; their tolerances are mmcatkd.benchmark.agreement.TOLERANCES.
"""
import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
import traceback

import torch
from mmrazor.registry import MODELS

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.benchmark.agreement import TOLERANCES, option_agreement
from mmcatkd.benchmark.variants import catkd_cfg, make_batch
from mmcatkd.engine.cli import entry_point
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from mmcatkd.utils.atomic_file import atomic_json_dump
from mmcatkd.utils.errors import ConfigError
from mmcatkd.utils.output_paths import check_output_file
from mmcatkd.utils.project_files import project_root

ROOT = project_root()
MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')
DEMO_CONFIGS = osp.join(ROOT, 'configs', 'demo')
# the CPU dry run's pair: 2-stage ResNets on 32 px images
DRY_RUN_MODELS = osp.join(ROOT, 'configs', '_base_', 'dry_run')
SMALL_TEACHER = osp.join(DRY_RUN_MODELS, 'resnet_2stage_s16_gap.py')
SMALL_STUDENT = osp.join(DRY_RUN_MODELS, 'resnet_2stage_s8_cam.py')
DIGITS_CONFIG = osp.join(DEMO_CONFIGS,
                         'catkd_resnet56_resnet20_1xb16_digits.py')
# two iterations on one image per digit, validated on one per digit
NCCL_ITERS = 2
DIGITS_OPTIONS = [
    'model.teacher_ckpt=None', f'train_cfg.max_iters={NCCL_ITERS}',
    f'train_cfg.val_interval={NCCL_ITERS}', 'default_hooks.logger.interval=1',
    'train_dataloader.dataset.num_per_class=1',
    'val_dataloader.dataset.num_per_class=1'
]
NEEDS = {'compile': 180}  # seconds of budget a check must have left


def agreement_setup(device: torch.device):
    """``build(channels_last)`` and a preprocessed batch for the checks."""
    if device.type == 'cuda':
        teacher = osp.join(MODELS_DIR, 'cifar100', 'resnet32x4.py')
        student = osp.join(MODELS_DIR, 'cifar100', 'shufflenetv1.py')
        batch_size = 64
    else:
        teacher, student, batch_size = SMALL_TEACHER, SMALL_STUDENT, 4
    teacher = resolve_cfg_path(dict(cfg_path=teacher))
    student = resolve_cfg_path(dict(cfg_path=student))

    def build(channels_last=False):
        torch.manual_seed(0)
        cfg = catkd_cfg(teacher, student, channels_last=channels_last)
        return MODELS.build(copy.deepcopy(cfg)).to(device)

    model = build()
    data = make_batch(batch_size, 32, model.student.head.num_classes)
    data = model.data_preprocessor(data, True)
    return build, data['inputs'], data['data_samples']


def check_agreement(option: str, device: torch.device) -> dict:
    build, inputs, samples = agreement_setup(device)
    measured = option_agreement(option, build, inputs, samples)
    limits = TOLERANCES[option]
    return dict(
        met=measured.pop('met'),
        detail=', '.join(f'{key} {value:.2e}'
                         for key, value in measured.items()) + ' (limits: ' +
        ', '.join(f'{key} {value}'
                  for key, value in limits.items() if value is not None) + ')',
        **measured)


def check_nccl(device: torch.device, timeout: float) -> dict:
    """Two iterations of the digits demo's CAT-KD (random teacher, one
    image per digit) through tools/dist_train.sh, then validation."""
    backend = 'nccl' if device.type == 'cuda' else 'gloo'
    with tempfile.TemporaryDirectory() as work_dir:
        env = dict(
            os.environ,
            PYTHON=sys.executable,
            PORT=str(29500 + os.getpid() % 1000))
        result = subprocess.run([
            'bash',
            osp.join(ROOT, 'tools', 'dist_train.sh'), DIGITS_CONFIG, '1',
            '--work-dir', work_dir, '--cfg-options',
            f'env_cfg.dist_cfg.backend={backend}', *DIGITS_OPTIONS
        ],
                                capture_output=True,
                                text=True,
                                cwd=ROOT,
                                env=env,
                                timeout=timeout)
    log = result.stdout + result.stderr
    trained = (f'Iter(train) [{NCCL_ITERS}/{NCCL_ITERS}]' in log
               and 'accuracy/top1' in log)
    return dict(
        met=result.returncode == 0 and trained,
        detail=(f'{backend}, exit {result.returncode}, '
                f'{"trained and validated" if trained else "no epoch"}'),
        log_tail=log[-2000:])


def matmul_peak(device: torch.device, dtype: torch.dtype, tf32: bool) -> float:
    """FLOP/s of a large square matmul: the floor's denominator."""
    if device.type != 'cuda':
        size, repeats = 1024, 3
    else:
        size, repeats = 8192, 20
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        for _ in range(2):
            a @ b
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    return 2 * size**3 * repeats / seconds


def check_throughput(device: torch.device, amp: bool) -> dict:
    """tools/benchmark.py on R34 -> R18 at 224 px (batch 64 on CUDA)."""
    argv = (['--pair', 'r34-r18', '--iters', '10', '--warmup', '3']
            if device.type == 'cuda' else [
                '--config', SMALL_TEACHER, '--student-config', SMALL_STUDENT,
                '--input-size', '32', '--iters', '2', '--warmup', '1'
            ])
    argv += [
        '--device', device.type, '--batch-size',
        '64' if device.type == 'cuda' else '4'
    ]
    if amp:
        argv += ['--amp', '--channels-last']
    with tempfile.TemporaryDirectory() as folder:
        out = osp.join(folder, 'benchmark.json')
        run = subprocess.run([
            sys.executable,
            osp.join(ROOT, 'tools', 'benchmark.py'), *argv, '--out', out
        ],
                             capture_output=True,
                             text=True,
                             cwd=ROOT,
                             timeout=300)
        if run.returncode != 0:
            raise RuntimeError('tools/benchmark.py failed: ' +
                               run.stderr[-500:])
        with open(out) as file:
            result = json.load(file)
    if device.type == 'cuda':
        peak = matmul_peak(
            device, torch.float16 if amp else torch.float32, tf32=True)
    else:
        peak = matmul_peak(device, torch.float32, tf32=False)
    rows = {}
    for name in ('student', 'logit_kd', 'catkd', 'catkd_cached'):
        row = result['variants'][name]
        floor_ms = 1e3 * row['work']['flops'] / peak
        rows[name] = dict(
            ms=row['wall_ms'],
            images_per_s=row['images_per_s'],
            floor_ms=floor_ms,
            ratio_to_floor=row['wall_ms'] / floor_ms)
    ratios = result['clocks']['wall']['ratios']
    detail = '; '.join(
        f"{name} {row['ms']:.1f} ms ({row['images_per_s']:.0f} img/s, "
        f"{row['ratio_to_floor']:.1f}x floor)" for name, row in rows.items())
    detail += (f"; CAT-KD/logit KD {ratios['catkd/logit_kd']:.3f}, "
               f"cached/student {ratios['catkd_cached/student']:.3f}")
    return dict(
        met=True,
        detail=detail,
        peak_tflops=peak / 1e12,
        rows=rows,
        targets=result['clocks']['wall']['targets'])


def run_checks(device: torch.device, budget: float, only=None) -> dict:
    # exact agreement (the benchmark rows run in their own process, with
    # PyTorch's default TF32 convolutions)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    checks = [(option, lambda o=option: check_agreement(o, device))
              for option in ('fp16', 'bf16', 'channels_last')
              if device.type == 'cuda' or option != 'fp16']
    checks += [
        ('nccl', lambda: check_nccl(device, timeout=240)),
        ('r34-r18 fp32', lambda: check_throughput(device, amp=False)),
        ('r34-r18 amp', lambda: check_throughput(device, amp=True)),
    ]
    if device.type == 'cuda':  # inductor on the CPU takes many minutes
        checks.append(('compile', lambda: check_agreement('compile', device)))
    started = time.perf_counter()
    results = {}
    for name, check in checks:
        if only and name.split()[0] not in only:
            continue
        spent = time.perf_counter() - started
        # inductor's compilation cannot be interrupted: start it only with
        # NEEDS[name] seconds of the budget left
        if spent + NEEDS.get(name, 0) > budget:
            results[name] = dict(
                met=None,
                seconds=0.0,
                detail=f'skipped: {spent:.0f} s of the {budget:.0f} s '
                'budget spent')
            continue
        tic = time.perf_counter()
        print(f'[{spent:5.0f} s] {name} ...', file=sys.stderr, flush=True)
        try:
            results[name] = check()
        except Exception as error:  # report, go on with the next check
            results[name] = dict(
                met=False,
                detail=f'{type(error).__name__}: {error}'[:300],
                traceback=traceback.format_exc()[-3000:])
        results[name]['seconds'] = time.perf_counter() - tic
    return results


def format_results(results: dict, device_name: str) -> str:
    lines = [
        f'CUDA checks on {device_name}, torch {torch.__version__}',
        f"{'check':<16}{'result':<9}{'s':>6}  detail", '-' * 78
    ]
    for name, row in results.items():
        state = {True: 'pass', False: 'FAIL', None: 'skipped'}[row['met']]
        lines.append(f"{name:<16}{state:<9}{row['seconds']:>6.0f}  "
                     f"{row['detail']}")
    return '\n'.join(lines)


@entry_point
def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', help='cuda (default) or cpu (dry run)')
    parser.add_argument(
        '--budget',
        type=float,
        default=450.0,
        help='seconds after which no check starts')
    parser.add_argument(
        '--only',
        nargs='+',
        help='run only these checks (first word of a name)')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace the --out file if it exists (never an input)')
    args = parser.parse_args(argv)
    check_output_file(args.out, force=args.force)
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ConfigError('no CUDA device here: run it on a GPU machine, or '
                          'pass --device cpu for a dry run.')
    name = (
        torch.cuda.get_device_name(device)
        if device.type == 'cuda' else 'cpu (dry run)')
    results = run_checks(device, args.budget, args.only)
    print(format_results(results, name))
    if args.out:
        atomic_json_dump(
            dict(device=name, torch=torch.__version__, results=results),
            args.out,
            indent=2,
            default=str)
    return results
