"""What a CAT-KD training step costs next to the student alone, the
teacher's forward and MMRazor's logit KD, on the current device.

    python tools/benchmark.py --pair r32x4-shv1 --out r32x4_shv1.json
    python tools/benchmark.py --pair r34-r18 --batch-size 16 --iters 30
    python tools/benchmark.py --teacher-config T.py --student-config S.py \\
        --input-size 32
    python tools/benchmark.py --data      # decode + augmentation per worker

Variants (see mmcatkd/benchmark/variants.py), all on one fixed batch held in
memory, through ``model.train_step(data, optim_wrapper)``:

    (a) student     the student alone (ImageClassifier, CE)
    (b) teacher     the teacher's forward alone: eval, no_grad, on the
                    batch preprocessed beforehand
    (c) logit_kd    MMRazor's SingleTeacherDistill + ConfigurableDistiller,
                    KLDivergence on the recorded ``head.fc`` outputs
    (d) catkd       CATDistill + CAMDistiller
    (e) catkd_bin   the same with binarised teacher CAMs
    (f) catkd_cached  CachedCATDistill: the teacher CAMs looked up in a
                    teacher-CAM cache (random values, CIFAR's 162 views per
                    image) instead of computed
    cam_loss(_bin)  CAT-KD's own work alone: both CAM recorders on recorded
                    backbone outputs, compute_distill_losses, its backward

Timing interleaves the variants, one step each per round, and reports
medians; ratios are of medians and, in the JSON, also medians of per-round
ratios ("paired"). On the CPU the ratios use CPU time by default (the steadier
clock on a shared machine, see --clock); on CUDA the wall clock, with device
synchronisation. Work per step (FLOPs, aten ops, bytes written) is counted
exactly, independent of load.
"""
import argparse
import math
import os.path as osp
import statistics
import tempfile
from typing import Dict, List

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
import torch
from mmrazor.registry import MODELS

from mmcatkd.benchmark import data_loading
from mmcatkd.benchmark.measure import (count_work, measure_memory,
                                       paired_ratio, progress, spread,
                                       time_rounds, work_difference)
from mmcatkd.benchmark.variants import (LABELS, TRAINING, Variant,
                                        build_variants, make_batch)
from mmcatkd.utils.atomic_file import atomic_json_dump
from mmcatkd.engine.cli import entry_point, positive_int
from mmcatkd.utils.output_paths import check_output_file
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from mmcatkd.utils.errors import ConfigError
from mmcatkd.utils.project_files import project_file

MODEL_CFGS = project_file('configs', '_base_', 'models')

# name: teacher and student configs, input size, default batch per device
# (CUDA: per GPU in the papers' runs, CIFAR 64, ImageNet 512 on 8 GPUs).
PAIRS = {
    'r32x4-shv1':
    dict(
        teacher=osp.join(MODEL_CFGS, 'cifar100', 'resnet32x4.py'),
        student=osp.join(MODEL_CFGS, 'cifar100', 'shufflenetv1.py'),
        input_size=32,
        batch_size=dict(cpu=64, cuda=64)),
    'r34-r18':
    dict(
        teacher=osp.join(MODEL_CFGS, 'imagenet', 'resnet34.py'),
        student=osp.join(MODEL_CFGS, 'imagenet', 'resnet18.py'),
        input_size=224,
        batch_size=dict(cpu=16, cuda=64)),
}

LIMIT = 1.03  # CAT-KD step vs. logit KD, and vs. teacher fwd + student step
CAM_LOSS_LIMIT = 0.02  # CAM + CAT loss as a share of the CAT-KD step
CACHED_VS_LOGIT_KD = 0.6  # cached CAT-KD step vs. logit KD (issue #17)
CACHED_VS_STUDENT = 1.05  # cached CAT-KD step vs. the student alone
TARGET_NAMES = {
    'catkd/logit_kd': 'CAT-KD step / logit-KD step',
    'catkd/(teacher+student)': 'CAT-KD step / (teacher fwd + student step)',
    'cam_loss/catkd': 'CAM + CAT loss / CAT-KD step',
    'catkd_cached/logit_kd': 'cached CAT-KD step / logit-KD step',
    'catkd_cached/student': 'cached CAT-KD step / student step',
}


def clock_summary(variants: Dict[str, Variant], clock: str) -> dict:
    """Ratios of one clock's median step times, and the targets."""
    times = {name: variant.times[clock] for name, variant in variants.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    ratios = {}
    for name in TRAINING:
        for base in ('student', 'logit_kd'):
            ratios[f'{name}/{base}'] = median[name] / median[base]
            ratios[f'{name}/{base} paired'] = paired_ratio(
                times[name], times[base])
    separate = [s + t for s, t in zip(times['student'], times['teacher'])]
    ratios['catkd/(teacher+student)'] = median['catkd'] / (
        median['student'] + median['teacher'])
    ratios['catkd/(teacher+student) paired'] = paired_ratio(
        times['catkd'], separate)
    ratios['cam_loss/catkd'] = median['cam_loss'] / median['catkd']
    ratios['cam_loss_bin/catkd_bin'] = (
        median['cam_loss_bin'] / median['catkd_bin'])

    def target(key: str, limit: float) -> dict:
        return dict(
            value=ratios[key],
            paired=ratios.get(key + ' paired'),
            limit=limit,
            met=ratios[key] <= limit)

    return dict(
        ratios=ratios,
        targets={
            'catkd/logit_kd': target('catkd/logit_kd', LIMIT),
            'catkd/(teacher+student)':
            target('catkd/(teacher+student)', LIMIT),
            'cam_loss/catkd': target('cam_loss/catkd', CAM_LOSS_LIMIT),
            'catkd_cached/logit_kd':
            target('catkd_cached/logit_kd', CACHED_VS_LOGIT_KD),
            'catkd_cached/student':
            target('catkd_cached/student', CACHED_VS_STUDENT),
        })


def summarise(variants: Dict[str, Variant], batch_size: int,
              clocks: List[str]) -> dict:
    rows = {}
    for name, variant in variants.items():
        row = dict(label=LABELS[name])
        for clock in clocks:
            times = variant.times[clock]
            row[f'{clock}_ms'] = 1e3 * statistics.median(times)
            row[f'{clock}_spread_iqr'] = spread(times)
            row[f'{clock}_times_ms'] = [1e3 * t for t in times]
        row['images_per_s'] = batch_size / statistics.median(
            variant.times['wall'])
        row['step_memory_mb'] = (None if variant.step_memory is None else
                                 variant.step_memory / 2**20)
        row['state_memory_mb'] = variant.state_bytes() / 2**20
        row['work'] = variant.work
        rows[name] = row
    result = dict(
        variants=rows,
        clocks={clock: clock_summary(variants, clock)
                for clock in clocks})
    if variants['catkd'].work is not None:
        work = {name: variant.work for name, variant in variants.items()}
        result['extra_work'] = {
            'catkd - student - teacher':
            work_difference(work['catkd'], work['student'], work['teacher']),
            'catkd - logit_kd':
            work_difference(work['catkd'], work['logit_kd']),
            'catkd_bin - catkd':
            work_difference(work['catkd_bin'], work['catkd']),
            'catkd_cached - student':
            work_difference(work['catkd_cached'], work['student']),
        }
    return result


def format_table(result: dict) -> str:
    rows, clocks = result['variants'], list(result['clocks'])
    primary = result['clocks'][result['clock']]['ratios']
    header = f"{'variant':<24}"
    for clock in clocks:
        header += f"{clock + ' ms':>10}{'±IQR':>7}"
    header += (f"{'img/s':>8}{'×(a)':>7}{'×(c)':>7}{'step MB':>9}"
               f"{'state MB':>9}{'GFLOP':>9}")
    lines = [
        f"{result['pair']}: batch {result['batch_size']}, "
        f"{result['input_size']} px, {result['device']} "
        f"({result['device_name']}, {result['threads']} threads), "
        f"{result['iters']} rounds after {result['warmup']} warm-up" +
        (', AMP' if result['amp'] else '') +
        (', channels_last' if result['channels_last'] else '') +
        (', compiled' if result['compile'] else ''),
        f"×(a), ×(c): ratios of median {result['clock']} times; ±IQR: "
        'interquartile range / median', header, '-' * len(header)
    ]

    def number(value, fmt):
        return '-' if value is None else format(value, fmt)

    for name, row in rows.items():
        line = f"{row['label']:<24}"
        for clock in clocks:
            line += (f"{row[clock + '_ms']:>10.1f}"
                     f"{100 * row[clock + '_spread_iqr']:>6.1f}%")
        gflop = None if row['work'] is None else row['work']['flops'] / 1e9
        line += (f"{row['images_per_s']:>8.1f}"
                 f"{number(primary.get(name + '/student'), '.3f'):>7}"
                 f"{number(primary.get(name + '/logit_kd'), '.3f'):>7}"
                 f"{number(row['step_memory_mb'], '.1f'):>9}"
                 f"{row['state_memory_mb']:>9.1f}{number(gflop, '.2f'):>9}")
        lines.append(line)
    for clock in clocks:
        lines.append(f'targets by {clock} time (ratio of medians; median '
                     'of per-round ratios):')
        for key, value in result['clocks'][clock]['targets'].items():
            paired = ('' if value['paired'] is None else
                      f"; {value['paired']:.3f}")
            lines.append(f"  {TARGET_NAMES[key]:<44} {value['value']:.3f}"
                         f"{paired} (<= {value['limit']}) "
                         f"{'met' if value['met'] else 'MISSED'}")
    for key, extra in result.get('extra_work', {}).items():
        base = rows['catkd']['work']
        lines.append(
            f"work {key}: {extra['flops'] / 1e9:+.3f} GFLOP "
            f"({100 * extra['flops'] / base['flops']:+.2f} % of (d)), "
            f"{extra['ops']:+d} aten ops, "
            f"{extra['written_bytes'] / 2**20:+.1f} MB written")
    lines.append(f"memory: {result['memory_method']}")
    return '\n'.join(lines)


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'cpu'


def run_pair(args: argparse.Namespace) -> dict:
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if args.pair:
        pair = PAIRS[args.pair]
        teacher_cfg, student_cfg = pair['teacher'], pair['student']
        input_size = args.input_size or pair['input_size']
        batch_size = args.batch_size or pair['batch_size'][device.type]
    else:
        teacher_cfg, student_cfg = args.teacher_config, args.student_config
        input_size, batch_size = args.input_size, args.batch_size or 32
    if args.clock == 'cpu' and device.type == 'cuda':
        raise ConfigError('--clock cpu measures nothing of a CUDA step: use '
                          'the wall clock there.')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = device.type == 'cuda'
    # Denormals make CPU arithmetic many times slower, in some variants only.
    torch.set_flush_denormal(True)
    num_classes = MODELS.build(resolve_cfg_path(
        dict(cfg_path=student_cfg))).head.num_classes
    data = make_batch(batch_size, input_size, num_classes)
    progress('building the variants')
    with tempfile.TemporaryDirectory() as cache_dir:
        variants = build_variants(teacher_cfg, student_cfg, data, device,
                                  args.amp, args.channels_last, args.compile,
                                  cache_dir)
        time_rounds(variants, device, args.warmup, args.iters)
        progress('memory: two more steps per variant')
        memory_method = measure_memory(variants, device)
        if not args.compile:  # dispatch modes and compiled graphs do not mix
            progress('counting the work of one step per variant')
            count_work(variants)
    # CPU time is a process's own work only on the CPU; there it is the
    # steadier clock when other jobs share the machine.
    clocks = ['wall', 'cpu'] if device.type == 'cpu' else ['wall']
    result = dict(
        pair=args.pair or (f'{osp.basename(teacher_cfg)} -> '
                           f'{osp.basename(student_cfg)}'),
        teacher_config=teacher_cfg,
        student_config=student_cfg,
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else cpu_name()),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        batch_size=batch_size,
        input_size=input_size,
        warmup=args.warmup,
        iters=args.iters,
        amp=args.amp,
        channels_last=args.channels_last,
        compile=args.compile,
        clock=args.clock or clocks[-1],
        memory_method=memory_method)
    result.update(summarise(variants, batch_size, clocks))
    return result


def run_data(args: argparse.Namespace) -> dict:
    width, height = args.data_size
    with tempfile.TemporaryDirectory() as folder:
        progress(f'writing {args.data_images} JPEGs of {width}x{height}')
        paths = data_loading.write_jpegs(folder, args.data_images, width,
                                         height)
        mean_kb = sum(osp.getsize(p) for p in paths) / len(paths) / 1024
        rates = data_loading.worker_rates(
            paths, repeats=args.data_repeats, progress=progress)
    return dict(
        images=args.data_images,
        image_size=[width, height],
        mean_file_kb=mean_kb,
        device_name=cpu_name(),
        pipelines=rates)


def format_data(result: dict) -> str:
    width, height = result['image_size']
    lines = [
        'LoadImageFromFile + RandomResizedCrop 224 + RandomFlip + '
        f"PackInputs, one worker ({result['device_name']}), "
        f"{result['images']} JPEGs of {width}x{height} "
        f"(mean {result['mean_file_kb']:.0f} KB)",
        f"{'pipeline':<30}{'img/s/worker':>14}{'img/CPU-s':>11}"
        f"{'workers for 2,500 img/s':>25}"
    ]
    for name, row in result['pipelines'].items():
        rate = row['images_per_s_per_worker']
        lines.append(f"{name:<30}{rate:>14.1f}"
                     f"{row['images_per_cpu_s']:>11.1f}"
                     f"{math.ceil(2500 / row['images_per_cpu_s']):>25}")
    lines.append('workers: ceil(2500 / img per CPU-second), the rate of a '
                 'worker on a core of its own')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--pair', choices=sorted(PAIRS))
    what.add_argument(
        '--teacher-config',
        '--config',
        help='teacher model config (a file defining `model`)')
    what.add_argument(
        '--data',
        action='store_true',
        help='measure decode + augmentation per loader worker instead')
    parser.add_argument(
        '--student-config', help='student model config, with --config')
    parser.add_argument('--batch-size', type=positive_int)
    parser.add_argument(
        '--input-size', type=positive_int, help='image side in pixels')
    parser.add_argument(
        '--iters',
        type=int,
        default=10,
        help='timed rounds, one step per variant each (default 10)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--device', help='cpu or cuda (default: cuda if available)')
    parser.add_argument(
        '--threads',
        type=positive_int,
        help="torch CPU threads (default: torch's)")
    parser.add_argument(
        '--clock',
        choices=['wall', 'cpu'],
        help='the times ratios and targets use (default: cpu on the CPU, '
        'wall on CUDA)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: AmpOptimWrapper fp16 on CUDA, bf16 autocast '
        'on the CPU')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='models (and CAT-KD inputs) in channels_last format')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile each training step and the teacher forward, as '
        'MMEngine does for compile=True (the CAM + loss rows stay eager)')
    parser.add_argument('--data-images', type=positive_int, default=300)
    parser.add_argument(
        '--data-size',
        type=positive_int,
        nargs=2,
        default=(500, 375),
        metavar=('W', 'H'))
    parser.add_argument('--data-repeats', type=positive_int, default=3)
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--force', action='store_true',
        help='replace the --out file if it exists (never an input)')
    args = parser.parse_args(argv)
    if args.teacher_config and not (args.student_config and args.input_size):
        parser.error('--config needs --student-config and --input-size.')
    if args.iters < 2:
        parser.error('--iters must be at least 2 (medians and spreads).')
    return args


@entry_point
def main(argv=None) -> dict:
    args = parse_args(argv)
    check_output_file(
        args.out,
        dict(config=[args.teacher_config, args.student_config]),
        force=args.force)
    if args.data:
        result = run_data(args)
        print(format_data(result))
    else:
        result = run_pair(args)
        print(format_table(result))
    if args.out:
        atomic_json_dump(result, args.out, indent=2)
    return result
