"""Can this teacher and this student do CAT-KD, at what cost, with which beta?

    python tools/check_pair.py TEACHER_CONFIG STUDENT_CONFIG \\
        [--teacher-ckpt T.pth] [--input-size 32] [--no-timing]
    python tools/check_pair.py \\
        mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py \\
        mmpretrain::resnet/resnet18_8xb32_in1k.py --no-timing
    python tools/check_pair.py --teacher-ckpt resnet32x4.pth --iters 782 \\
        --data-config \\
        configs/catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py

Configs are local files or packaged ones (``mmpretrain::...``) defining
``model`` (an ``ImageClassifier``), or timm models
(``timm://resnet50.a1_in1k``, random weights: nothing is downloaded).
For each model the table says where its
class activation maps come from and whether they are exact (logits equal
GAP(CAM) + b on a random batch in float64, within 1e-5; else why not), their
size at the config's input size, parameters and multiply-adds; then the CAT
resolutions the pair allows, whether the class counts agree, and the time of
one CAT-KD training step next to the student alone (mmcatkd.benchmark).
Exits with status 1 and one sentence when the pair cannot do CAT-KD.

``--data-config CONFIG --iters N`` then runs the automatic-beta window of
``CATLoss(loss_weight='auto')`` for N iterations on CONFIG's training data,
optimiser and schedule (the student's weights change in memory as in the
run; nothing is saved) and prints the beta a run with ``auto_iters=N``
would fix, next to the config's own beta. CONFIG is a CAT-KD config (its
teacher, student and CAT options are used unless the two positional configs
are given) or any training config of the student (CAT at r=2 on raw CAMs,
as the authors' CAT-KD configs). ``--cfg-options KEY=VALUE ...`` overrides
entries of CONFIG, as in tools/train.py (e.g. ``model.teacher_ckpt=None``
for a random teacher, ``train_dataloader.dataset.data_root=...``).
"""
import argparse
import statistics
import tempfile

import torch
from mmengine.config import Config
from mmengine.hooks import Hook

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.apis.loading import build_classifier, load_weights
from mmcatkd.apis.pair_check import (classifier_cfg, format_count,
                                     input_size_of, inspect_cams,
                                     legal_resolutions, pair_problem)
from mmcatkd.engine.cli import CfgOptionsAction, entry_point, positive_int
from mmcatkd.engine.hooks import auto_betas
from mmcatkd.models.classifiers.timm_classifier import (TIMM_SCHEME,
                                                        timm_model_cfg)
from mmcatkd.models.losses.auto_beta import DEFAULT_TARGET
from mmcatkd.utils.config import config_model, load_config
from mmcatkd.utils.errors import ConfigError
from mmcatkd.utils.mmengine_private import load_checkpoint_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check a CAT-KD teacher/student pair.')
    parser.add_argument('teacher_config', nargs='?')
    parser.add_argument('student_config', nargs='?')
    parser.add_argument('--teacher-ckpt', help='teacher weights (strict)')
    parser.add_argument(
        '--input-size',
        type=positive_int,
        help="default: the student config's training crop, "
        'else 224')
    parser.add_argument(
        '--no-timing',
        action='store_true',
        help='skip the timed CAT-KD and student steps')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=8,
        help='batch of the timed steps')
    parser.add_argument(
        '--rounds',
        type=positive_int,
        default=3,
        help='timed rounds (after one warm-up)')
    parser.add_argument(
        '--data-config',
        help='run the auto-beta window on '
        "this config's training data")
    parser.add_argument(
        '--iters',
        type=positive_int,
        help='iterations of the window (default: one epoch '
        'of --data-config)')
    parser.add_argument(
        '--target',
        type=float,
        default=DEFAULT_TARGET,
        help='beta * CAT after the window (default sqrt(50))')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override entries of the --data-config, '
        'xxx=yyy (e.g. model.teacher_ckpt=None)')
    args = parser.parse_args(argv)
    if (args.teacher_config is None) != (args.student_config is None):
        parser.error('give both TEACHER_CONFIG and STUDENT_CONFIG, or '
                     'neither (with a CAT-KD --data-config).')
    if args.cfg_options and not args.data_config:
        parser.error('--cfg-options overrides the --data-config: give one.')
    return args


def data_config(args):
    """The --data-config, with the --cfg-options applied."""
    cfg = load_config(args.data_config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def model_cfgs(args):
    """(teacher, student) model configs and the config of the input size."""
    if args.teacher_config:
        (teacher, _), (student,
                       size_cfg) = (positional_model(args.teacher_config),
                                    positional_model(args.student_config))
        return teacher, student, size_cfg
    if not args.data_config:
        raise ConfigError('give TEACHER_CONFIG and STUDENT_CONFIG, or a '
                          'CAT-KD --data-config.')
    cfg = data_config(args)
    model = config_model(cfg).to_dict()
    if 'teacher' not in model or 'architecture' not in model:
        raise ConfigError(f'{args.data_config} is not a distillation '
                          'config: give TEACHER_CONFIG and STUDENT_CONFIG '
                          'too.')
    preprocessor = model.get('data_preprocessor', cfg.get('data_preprocessor'))
    from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
    pair = []
    for key in ('teacher', 'architecture'):
        part = resolve_cfg_path(model[key])
        if '::' in part.get('cfg_path', ''):
            part = classifier_cfg(load_config(part['cfg_path']))
        if preprocessor and 'data_preprocessor' not in part:
            part['data_preprocessor'] = dict(preprocessor)
        pair.append(part)
    return pair[0], pair[1], cfg


def positional_model(path: str):
    """The model config of a positional argument and the config its input
    size comes from: a config file, or ``timm://ARCH[.TAG]`` (random
    weights, as every model here; the input size then defaults to 224)."""
    if path.startswith(TIMM_SCHEME):
        return timm_model_cfg(path, pretrained=False), Config()
    cfg = load_config(path)
    return classifier_cfg(cfg), cfg


def report_rows(reports):
    rows = [('', 'teacher', 'student')]

    def row(name, fn):
        rows.append((name, *(fn(r) for r in reports)))

    row('model', lambda r: f'{r.backbone} + {r.head}')
    row('CAMs from', lambda r: r.source or '—')
    row(
        'exact (|logits - GAP(CAM) - b|)', lambda r:
        (f'yes ({r.difference:.1e})' if r.exact else f'no: {r.reason}'))
    row('CAM size', lambda r: 'x'.join(map(str, r.cam_size))
        if r.cam_size else '—')
    row('classes', lambda r: str(r.num_classes))
    row('parameters', lambda r: format_count(r.params))
    row('multiply-adds / image', lambda r: format_count(r.macs))
    return rows


def print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print('  '.join(cell.ljust(width)
                        for cell, width in zip(row, widths)).rstrip())


def time_steps(teacher_cfg, student_cfg, input_size, num_classes, args):
    """Median CPU (or CUDA wall) time of a CAT-KD step and a student step."""
    from mmcatkd.benchmark.measure import time_rounds
    from mmcatkd.benchmark.variants import (build, catkd_cfg, make_batch,
                                            training_variant)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    data = make_batch(args.batch_size, input_size, num_classes)
    variants = {
        'student':
        training_variant('student', build(student_cfg, device), data, device),
        'catkd':
        training_variant('catkd',
                         build(catkd_cfg(teacher_cfg, student_cfg), device),
                         data, device),
    }
    time_rounds(variants, device, warmup=1, iters=args.rounds)
    clock = 'wall' if device.type == 'cuda' else 'cpu'
    return {
        name: statistics.median(v.times[clock])
        for name, v in variants.items()
    }, clock, device


def auto_beta_window(args, teacher_cfg, student_cfg) -> None:
    """Run the window on --data-config's data and print the chosen beta."""
    from mmengine.runner import Runner
    cfg = data_config(args)
    distill = cfg.model.get('type', '').split('.')[-1] == 'CATDistill'
    cat_loss = (
        dict(cfg.model.distiller.get('cat_loss', {})) if distill else dict(
            resolution=2, normalize=False))
    config_beta = cat_loss.get('loss_weight') if distill else None
    if not distill or args.teacher_config:
        cfg.model = dict(
            _scope_='mmrazor',
            type='CATDistill',
            architecture=student_cfg,
            teacher=teacher_cfg,
            distiller=dict(type='CAMDistiller', cat_loss=cat_loss))
        cfg.val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
    if args.teacher_ckpt:
        cfg.model.teacher_ckpt = args.teacher_ckpt
    elif not cfg.model.get('teacher_ckpt'):
        print('note: no teacher checkpoint, so the teacher is random and '
              'the beta says nothing about the trained pair.')
    cfg.model.teacher_ckpt = cfg.model.get('teacher_ckpt') or None
    cfg.model.distiller.cat_loss.update(
        loss_weight='auto', auto_iters=args.iters, auto_target=args.target)
    cfg.work_dir = tempfile.mkdtemp(prefix='check_pair_')
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    cfg.custom_hooks = [dict(type='CATAutoBetaHook')]
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.register_hook(StopAfterWindow())
    try:
        runner.train()
    except WindowDone:
        pass
    module = auto_betas(runner.model)[0]
    resolution = cat_loss.get('resolution', 2)
    maps = 'normalised' if cat_loss.get('normalize', True) else 'raw'
    print(f'\nCAT over iterations {module._window // 2 + 1}-'
          f'{module._window} of the {module._window}-iteration window: '
          f'{module.measured:.4g} (unweighted, r={resolution}, {maps} CAMs)')
    if config_beta not in (None, 'auto'):
        print(f"authors' beta (the config's loss_weight): {config_beta:g} -> "
              f'beta * CAT = {config_beta * module.measured:.4g}')
    print(f'auto beta: {module.beta.item():.4g} -> beta * CAT = '
          f'{args.target:.4g} (target)')


class WindowDone(Exception):
    """Raised by :class:`StopAfterWindow` once beta is chosen."""


class StopAfterWindow(Hook):
    """Ends training as soon as every automatic beta is chosen."""

    priority = 'LOWEST'

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if all(m.chosen for m in auto_betas(runner.model)):
            raise WindowDone()


@entry_point
def main(argv=None):
    args = parse_args(argv)
    return check(args)


def check(args) -> int:
    teacher_cfg, student_cfg, size_cfg = model_cfgs(args)
    input_size = args.input_size or input_size_of(size_cfg)
    teacher = build_classifier(teacher_cfg)
    if args.teacher_ckpt:
        load_weights(teacher, args.teacher_ckpt,
                     load_checkpoint_file(args.teacher_ckpt))
    student = build_classifier(student_cfg)
    reports = [inspect_cams(model, input_size) for model in (teacher, student)]
    print(f'input {input_size}x{input_size}')
    rows = report_rows(reports)
    problem = pair_problem(*reports)
    if problem is None:
        largest, even = legal_resolutions(reports[0].cam_size,
                                          reports[1].cam_size)
        rows.append(
            ('CAT resolutions r (pair)',
             f'1..{largest}, equal bins at ' + ', '.join(map(str, even)), ''))
    print_table(rows)
    if problem is not None:
        print(f'\nThis pair cannot do CAT-KD: {problem}')
        return 1
    if not args.no_timing:
        times, clock, device = time_steps(teacher_cfg, student_cfg, input_size,
                                          reports[1].num_classes, args)
        print(f'\none training step, batch {args.batch_size}, {device.type} '
              f'({clock} time, median of {args.rounds}): student alone '
              f'{1e3 * times["student"]:.1f} ms, CAT-KD '
              f'{1e3 * times["catkd"]:.1f} ms '
              f'({times["catkd"] / times["student"]:.2f}x)')
    if args.data_config:
        auto_beta_window(args, teacher_cfg, student_cfg)
    return 0
