"""`make demo`: a real CAT-KD experiment, offline, on a laptop CPU in minutes.

Data: scikit-learn's bundled handwritten digits
(mmcatkd.datasets.SklearnDigits, 1,198 train / 599 test real scans). Five
MMEngine runs in sequence, same seed and schedule for every student
(configs/demo/):

  1. teacher    ResNet-56 on all training digits (reused by later runs)
  2. baseline   ResNet-20 on 10 labelled digits per class, cross-entropy
  3. KD         + logit KD from the teacher (MMRazor's KLDivergence)
  4. CAT-KD     + beta * CAT (Guo et al., CVPR 2023, Eq. 6)
  5. CAT alone  CAT on the same 100 images, no labels

docs/demo.md explains the setting and the choice of beta.

Leaves results.md, results.json and cams.png in the work directory.

    python tools/demo.py                    # work_dirs/demo
    python tools/demo.py --retrain-teacher  # do not reuse the teacher
    python tools/demo.py --quick --work-dir /tmp/demo  # a few steps each

A saved teacher is reused when its record (teacher.json) says it was
trained with this run's settings; a --quick teacher is replaced. A
teacher.pth without a record, or a full teacher trained with other
settings, is replaced only with --retrain-teacher, and --quick never runs in
a work directory that holds a full run.

Options for studies on the same data (docs/your_own_pair.md):

    python tools/demo.py --beta auto --num-per-class 3 --seed 1 \
        --stages catkd,cat_only --teacher-dir work_dirs/demo/teacher \
        --work-dir work_dirs/auto3_s1
    python tools/demo.py \\
        --teacher-config configs/demo/convnext-micro_1xb32_digits.py
    python tools/demo.py --teacher-cams     # CAT students without the teacher
"""
import argparse
import os
import os.path as osp

# OpenMP threads that spin while waiting make PyTorch 10-30x slower when
# another program keeps the cores busy (measured on a shared 2-core CPU:
# 2.5 s instead of 0.08 s per ResNet-20 step); sleeping threads cost ~30%
# on an idle machine and keep the demo within minutes on a busy one. Read
# by the OpenMP runtime when torch loads, so set before any import of it
# (tools/demo.py sets it first); an OMP_WAIT_POLICY set by the user wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.apis.demo import (QUICK_ITERS, QUICK_TEST_IMAGES, STAGES,
                               check_quick_work_dir, run_demo)
from mmcatkd.engine.cli import entry_point
from mmcatkd.engine.work_dir import claim_work_dir
from mmcatkd.utils.output_paths import check_output_folder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a teacher and four students on scikit-learn\'s '
        'digits and compare the students (CAT-KD, Guo et al., CVPR 2023).')
    parser.add_argument(
        '--work-dir',
        default=osp.join('work_dirs', 'demo'),
        help='where checkpoints, logs and results go')
    parser.add_argument(
        '--retrain-teacher',
        action='store_true',
        help='train the teacher again even if the work directory has one '
        '(replacing it)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help=f'{QUICK_ITERS} training steps per stage and '
        f'{QUICK_TEST_IMAGES} test images: checks the pipeline, results '
        'mean nothing')
    parser.add_argument(
        '--stages',
        default=','.join(stage.key for stage in STAGES[1:]),
        help='comma-separated student stages to run (the teacher is always '
        'trained or reused): ' + ', '.join(s.key for s in STAGES[1:]))
    parser.add_argument(
        '--num-per-class',
        type=int,
        help='labelled digits per class of '
        'the students (default: the configs\' 10)')
    parser.add_argument(
        '--seed',
        type=int,
        help='training seed of the students (the '
        'teacher keeps its own)')
    parser.add_argument(
        '--beta',
        help="beta of the CAT stages: a number, or 'auto' for "
        "CATLoss(loss_weight='auto') with CATAutoBetaHook (one-epoch window)")
    parser.add_argument(
        '--teacher-config',
        help='a classifier config trained as the teacher '
        'instead of configs/demo/resnet56_1xb32_digits.py; the students '
        'learn from it')
    parser.add_argument(
        '--teacher-dir',
        help='where the teacher is trained or reused '
        '(default WORK_DIR/teacher); lets several runs share one teacher')
    parser.add_argument(
        '--teacher-cams',
        action='store_true',
        help='CAT-KD and CAT alone read the teacher\'s CAMs from a cache of '
        'every view of their training digits (WORK_DIR/teacher_cams, built '
        'once) instead of running the teacher; results.md says what it saved')
    args = parser.parse_args(argv)
    args.stages = ['teacher'] + args.stages.split(',')
    unknown = set(args.stages) - {stage.key for stage in STAGES}
    if unknown:
        parser.error(f'unknown stages {sorted(unknown)}: choose from ' +
                     ', '.join(s.key for s in STAGES[1:]) + '.')
    if args.beta is not None and args.beta != 'auto':
        args.beta = float(args.beta)
    return args


@entry_point
def main(argv=None):
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    teacher_dir = osp.abspath(
        args.teacher_dir or osp.join(work_dir, 'teacher'))
    inputs = {'teacher config': args.teacher_config}
    check_output_folder(args.work_dir, inputs)
    check_output_folder(
        args.teacher_dir or osp.join(args.work_dir, 'teacher'),
        inputs,
        option='--teacher-dir')
    if args.quick:
        check_quick_work_dir(work_dir)
    with claim_work_dir(work_dir, new_run=False):
        run_demo(args, work_dir, teacher_dir)
