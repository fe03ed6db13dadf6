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

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.benchmark.report import format_data, format_table
from mmcatkd.benchmark.runs import PAIRS, run_data, run_pair
from mmcatkd.engine.cli import entry_point, positive_int
from mmcatkd.utils.atomic_file import atomic_json_dump
from mmcatkd.utils.output_paths import check_output_file


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
        '--force',
        action='store_true',
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
