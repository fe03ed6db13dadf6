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
import json
import os
import os.path as osp
import shutil
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

# OpenMP threads that spin while waiting make PyTorch 10-30x slower when
# another program keeps the cores busy (measured on a shared 2-core CPU:
# 2.5 s instead of 0.08 s per ResNet-20 step); sleeping threads cost ~30%
# on an idle machine and keep the demo within minutes on a busy one. Read
# by the OpenMP runtime when torch loads, so set before any import of it;
# an OMP_WAIT_POLICY set by the user wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import mmcatkd  # noqa: E402,F401  (compat workarounds + registration, first)
import numpy as np  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmcatkd.cam_cache import CacheBuilder, use_teacher_cams  # noqa: E402
from mmcatkd.datasets import SklearnDigits  # noqa: E402
from mmcatkd.utils.atomic_file import (  # noqa: E402
    atomic_json_dump, atomic_open, atomic_savefig)
from mmcatkd.utils.checkpoint import (  # noqa: E402
    CorruptCheckpointError, UnsafeCheckpointError)
from mmcatkd.engine.cli import entry_point  # noqa: E402
from mmcatkd.engine.work_dir import claim_work_dir  # noqa: E402
from mmcatkd.utils.output_paths import (  # noqa: E402
    OutputRefusedError, check_output_folder)
from mmcatkd.engine.hooks import auto_betas  # noqa: E402
from mmcatkd.utils.errors import ConfigError  # noqa: E402
from mmcatkd.visualization import cam_figure  # noqa: E402
from mmcatkd.utils.project_files import project_root  # noqa: E402

PROJECT_ROOT = project_root()
CONFIG_DIR = osp.join(PROJECT_ROOT, 'configs', 'demo')
TEACHER_CKPT = 'teacher.pth'  # CheckpointHook filename_tmpl of stage 1
TEACHER_RECORD = 'teacher.json'
QUICK_ITERS = 3
QUICK_TEST_IMAGES = 40
NUM_CAM_IMAGES = 4


@dataclass
class Stage:
    key: str
    name: str
    config: str
    learns_from: str


STAGES = [
    Stage('teacher', 'teacher ({teacher})', 'resnet56_1xb32_digits.py',
          'labels of all 1,198 training digits'),
    Stage('baseline', 'baseline (ResNet-20)', 'resnet20_1xb16_digits.py',
          'labels of {n} digits per class'),
    Stage('kd', 'KD (ResNet-20)',
          'kd_logits_resnet56_resnet20_1xb16_digits.py',
          'the same labels + teacher logits, KL divergence (T=4)'),
    Stage('catkd', 'CAT-KD (ResNet-20)',
          'catkd_resnet56_resnet20_1xb16_digits.py',
          'the same labels + teacher CAMs, CE + {beta} * CAT'),
    Stage('cat_only', 'CAT alone (ResNet-20)',
          'cat_resnet56_resnet20_1xb16_digits.py',
          'teacher CAMs on the same images, {beta} * CAT, no labels'),
]


class LastValMetrics(Hook):
    """Keeps the metrics of the last validation (the test split here)."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Dict[str, float] = {}

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


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
        '--num-per-class', type=int, help='labelled digits per class of '
        'the students (default: the configs\' 10)')
    parser.add_argument(
        '--seed', type=int, help='training seed of the students (the '
        'teacher keeps its own)')
    parser.add_argument(
        '--beta', help="beta of the CAT stages: a number, or 'auto' for "
        "CATLoss(loss_weight='auto') with CATAutoBetaHook (one-epoch window)")
    parser.add_argument(
        '--teacher-config', help='a classifier config trained as the teacher '
        'instead of configs/demo/resnet56_1xb32_digits.py; the students '
        'learn from it')
    parser.add_argument(
        '--teacher-dir', help='where the teacher is trained or reused '
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
        parser.error(f'unknown stages {sorted(unknown)}: choose from '
                     + ', '.join(s.key for s in STAGES[1:]) + '.')
    if args.beta is not None and args.beta != 'auto':
        args.beta = float(args.beta)
    return args


def prepare_teacher_cams(cfg: Config, work_dir: str) -> dict:
    """Build (or reuse) the teacher-CAM cache of a CAT stage's config.

    The cache holds the pooled teacher CAMs of all 81 crops of each of the
    students' training digits; one of another teacher is replaced.

    Returns:
        dict: ``folder``, ``views``, ``build_seconds`` (of the build that
        made it) and ``reused``.
    """
    folder = osp.join(work_dir, 'teacher_cams')
    record_path = osp.join(work_dir, 'teacher_cams.json')
    builder = CacheBuilder(cfg, folder, 'float16')
    try:
        builder.check_existing()
    except ValueError:  # a cache of an earlier teacher: the demo's to replace
        shutil.rmtree(folder)
    views = builder.shape[0] * builder.shape[1]
    print(f'\n=== Teacher-CAM cache: {builder.shape[0]} training digits x '
          f'{builder.shape[1]} crops = {views} teacher forwards, '
          f'{builder.nbytes / 2**20:.1f} MiB, in {folder} ===', flush=True)
    tic, cpu_tic = time.perf_counter(), time.process_time()
    summary = builder.build(log=lambda line: print(line, flush=True))
    if summary['chunks'] == 0 and osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
        print(f'Reusing it (built in {record["build_seconds"]:.0f} s).')
        return dict(record, reused=True)
    record = dict(
        folder=folder,
        views=views,
        build_seconds=round(time.perf_counter() - tic, 1),
        build_cpu_seconds=round(time.process_time() - cpu_tic, 1))
    atomic_json_dump(record, record_path)
    return dict(record, reused=False)


def teacher_cams_saving(cache: dict, configs: List[Config]) -> dict:
    """Teacher forwards the cached CAT stages skipped and the CPU time they
    would have taken at the build's rate (its batched forwards; CPU time,
    which other programs' load changes little), net of the build when this
    run made it."""
    skipped = sum(cfg.train_cfg.max_iters * cfg.train_dataloader.batch_size
                  for cfg in configs)
    saved = skipped * cache['build_cpu_seconds'] / cache['views']
    spent = 0 if cache['reused'] else cache['build_cpu_seconds']
    return dict(
        skipped_teacher_forwards=skipped,
        saved_cpu_seconds=round(saved, 1),
        build_seconds=cache['build_seconds'],
        build_cpu_seconds=cache['build_cpu_seconds'],
        reused=cache['reused'],
        net_saved_cpu_seconds=round(saved - spent, 1),
        text=(f'Teacher CAMs from a cache of {cache["views"]} views '
              f'({"reused" if cache["reused"] else "built"}; the build took '
              f'{cache["build_seconds"]:.0f} s, CPU time '
              f'{cache["build_cpu_seconds"]:.0f} s). The {len(configs)} CAT '
              f'students skipped {skipped} teacher forwards, about '
              f'{saved:.0f} s of CPU time at the build\'s rate: net '
              f'{saved - spent:+.0f} s this run, {saved:+.0f} s on every run '
              'that reuses the cache (an estimate; docs/demo.md has measured '
              'runs).'))


def load_stage_config(stage: Stage, work_dir: str, quick: bool,
                      teacher_ckpt: str, args=None) -> Config:
    """The stage's config with the demo's work dir and teacher checkpoint,
    and the options of ``args`` (see :func:`apply_options`)."""
    config = stage.config
    if stage.key == 'teacher' and args is not None and args.teacher_config:
        config = osp.abspath(args.teacher_config)
    cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
    cfg.work_dir = (osp.dirname(teacher_ckpt) if stage.key == 'teacher' else
                    osp.join(work_dir, stage.key))
    cfg.launcher = 'none'
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = teacher_ckpt
    if args is not None and stage.key != 'teacher':
        apply_options(cfg, args)
    if quick:
        cfg.train_cfg.max_iters = QUICK_ITERS
        cfg.train_cfg.val_interval = QUICK_ITERS
        cfg.default_hooks.logger.interval = 1
        for loader in ('val_dataloader', 'test_dataloader'):
            cfg[loader].dataset.indices = QUICK_TEST_IMAGES
    return cfg


def apply_options(cfg: Config, args) -> None:
    """A student stage's config with --num-per-class, --seed, --beta and
    --teacher-config applied."""
    if args.num_per_class is not None:
        cfg.train_dataloader.dataset.num_per_class = args.num_per_class
    if args.seed is not None:
        cfg.randomness.seed = args.seed
    cat_loss = cfg.model.get('distiller', {}).get('cat_loss')
    if cat_loss is not None and args.beta is not None:
        cat_loss.loss_weight = args.beta
        if args.beta == 'auto':
            cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
                dict(type='CATAutoBetaHook')
            ]
    if 'teacher' in cfg.model and args.teacher_config:
        teacher = Config.fromfile(osp.abspath(args.teacher_config)).model
        cfg.model.teacher = teacher.to_dict()


def build_runner(cfg: Config) -> Runner:
    """A Runner that logs its environment and config only to its files.

    The construction messages (environment, full config, hook order) would
    bury the progress lines on the terminal; the config is still dumped to
    the work dir, and training is logged at INFO as usual.
    """
    log_level = cfg.get('log_level', 'INFO')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.logger.setLevel(log_level)
    for handler in runner.logger.handlers:
        handler.setLevel(log_level)
    return runner


def classifier(runner: Runner):
    """The trained classifier: the student of a distillation algorithm."""
    model = runner.model
    return getattr(model, 'student', model)


def teacher_settings(cfg: Config) -> dict:
    """What must match for a saved teacher to be reused (JSON-normalised).

    Model, data, schedule and seed: a teacher from a --quick run or from an
    edited config is trained again instead of standing in for this one.
    """
    keys = ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper',
            'param_scheduler', 'randomness')
    settings = {key: cfg.to_dict()[key] for key in keys}
    return json.loads(json.dumps(settings, sort_keys=True))


def teacher_record(work_dir: str) -> Optional[dict]:
    """The record (teacher.json) of the teacher saved in ``work_dir``, or
    None when there is no record or no teacher."""
    record_path = osp.join(work_dir, TEACHER_RECORD)
    if not (osp.isfile(record_path)
            and osp.isfile(osp.join(work_dir, TEACHER_CKPT))):
        return None
    with open(record_path) as f:
        try:
            return json.load(f)
        except ValueError as err:
            raise ConfigError(
                f'{record_path} (the record of an earlier run\'s teacher) is '
                f'corrupt ({err}): run the demo again with --retrain-teacher.'
            ) from err


def reusable_teacher(work_dir: str, settings: dict) -> Optional[dict]:
    """The record of a saved teacher trained with ``settings``, if any."""
    record = teacher_record(work_dir)
    return record if record and record.get('settings') == settings else None


def check_teacher_replaceable(work_dir: str) -> None:
    """Refuse to train a teacher over one the demo may not replace
    unasked: a teacher.pth without its record (not one the demo trained), or
    a full (not --quick) teacher trained with other settings.

    Raises:
        OutputRefusedError: naming --retrain-teacher and --teacher-dir.
    """
    checkpoint = osp.join(work_dir, TEACHER_CKPT)
    if not osp.lexists(checkpoint):
        return
    record = teacher_record(work_dir)
    if record is None:
        raise OutputRefusedError(
            f'{checkpoint} has no {TEACHER_RECORD} record (the demo did not '
            'train it, or its run was cut short) and is kept: give another '
            '--teacher-dir, or pass --retrain-teacher to train a new teacher '
            'over it.')
    if not record.get('quick', False):
        raise OutputRefusedError(
            f'{checkpoint} is a full teacher (top-1 {record.get("top1")} %) '
            'trained with other settings (model, data, schedule or seed) '
            'than this run\'s: give this run another --work-dir (or '
            '--teacher-dir), or pass --retrain-teacher to replace it.')


def check_quick_work_dir(work_dir: str) -> None:
    """Refuse --quick in a work directory holding a full demo run."""
    path = osp.join(work_dir, 'results.json')
    if not osp.isfile(path):
        return
    try:
        with open(path) as f:
            quick = json.load(f)['setting']['quick']
    except (ValueError, KeyError, TypeError):
        quick = False  # not a demo's results: keep them too
    if not quick:
        raise OutputRefusedError(
            f'{work_dir} holds a full demo run ({path}): --quick would '
            'replace its teacher and results with ones that mean nothing; '
            'give --quick a --work-dir of its own, e.g. '
            'work_dirs/demo_quick.')


def run_stage(index: int, total: int, stage: Stage, cfg: Config,
              start: float,
              reuse: Optional[dict] = None) -> Tuple[dict, object]:
    """Train (or, for a reused teacher, only evaluate) one stage, the
    ``index``-th of ``total``.

    Returns:
        tuple: the stage's result row and its trained classifier.
    """
    name = stage.name.format(teacher=model_name(cfg))
    print(f'\n=== Stage {index}/{total}: {name}, '
          f'{stage_description(stage, cfg)} '
          f'[{elapsed(start)} elapsed] ===',
          flush=True)
    metrics_hook = LastValMetrics()
    if reuse is not None:
        ckpt = osp.join(cfg.work_dir, TEACHER_CKPT)
        print(f'Reusing the teacher trained by an earlier run: {ckpt} '
              '(pass --retrain-teacher to train it again). Evaluating it.',
              flush=True)
        cfg.load_from = ckpt
    runner = build_runner(cfg)
    runner.register_hook(metrics_hook)
    tic = time.perf_counter()
    if reuse is None:
        runner.train()
    else:
        try:
            runner.val()
        except (CorruptCheckpointError, UnsafeCheckpointError) as err:
            raise type(err)(
                f'{err} It is the teacher an earlier demo run saved: run the '
                'demo again with --retrain-teacher to train it anew.') from err
    seconds = time.perf_counter() - tic
    top1 = metrics_hook.metrics.get('accuracy/top1')
    chosen = [float(m.beta) for m in auto_betas(runner.model) if m.chosen]
    if top1 is None:
        raise RuntimeError(f'stage {stage.key} reported no accuracy/top1 '
                           f'(got {sorted(metrics_hook.metrics)}).')
    result = dict(
        key=stage.key,
        name=name,
        learns_from=stage_description(stage, cfg, chosen),
        config=osp.relpath(
            osp.join(CONFIG_DIR, cfg.filename or stage.config), PROJECT_ROOT),
        top1=round(float(top1), 2),
        train_seconds=round(reuse['train_seconds'] if reuse else seconds, 1),
        reused=reuse is not None)
    if chosen:
        result['auto_beta'] = chosen[0]
    print(f'Stage {index}/{total} {name}: top-1 '
          f'{result["top1"]:.2f}% on the test split '
          f'({"reused, " if reuse else ""}'
          f'{result["train_seconds"]:.0f} s training)',
          flush=True)
    return result, classifier(runner)


def stage_description(stage: Stage, cfg: Config,
                      chosen: Optional[List[float]] = None) -> str:
    """What the stage learns from, with its few-label count and beta (an
    automatic beta as 'auto', or 'auto (=B)' once chosen)."""
    cat_loss = cfg.model.get('distiller', {}).get('cat_loss', {})
    beta = cat_loss.get('loss_weight', 0)
    if beta == 'auto':
        beta = f'auto (={chosen[0]:.3g})' if chosen else 'auto'
    else:
        beta = f'{beta:g}'
    return stage.learns_from.format(
        n=cfg.train_dataloader.dataset.get('num_per_class'), beta=beta,
        teacher=model_name(cfg))


def model_name(cfg: Config) -> str:
    """'ResNet-56' for the demo's teacher, else the backbone's type and
    arch."""
    backbone = cfg.model.get('backbone', {})
    if backbone.get('arch') == 'resnet56':
        return 'ResNet-56'
    return ' '.join(str(backbone.get(key)) for key in ('type', 'arch')
                    if backbone.get(key) is not None)


def elapsed(start: float) -> str:
    seconds = int(time.perf_counter() - start)
    return f'{seconds // 60}:{seconds % 60:02d}'


def cam_images(num_images: int = NUM_CAM_IMAGES):
    """Test digits of distinct classes, drawn once with a fixed seed."""
    test = SklearnDigits('test')
    labels = test.get_gt_labels()
    classes = np.random.default_rng(0).choice(
        len(test.metainfo['classes']), num_images, replace=False)
    indices = [int(np.flatnonzero(labels == label)[0]) for label in classes]
    images = np.stack([test.get_data_info(i)['img'] for i in indices])
    return images, labels[indices], test.metainfo['classes']


def write_results(work_dir: str, setting: dict, results: List[dict],
                  total_seconds: float, cpu_seconds: float) -> str:
    """results.json and results.md; returns the markdown table.

    ``cpu_seconds`` (all threads of this process) is reported next to the
    wall time because the wall time grows with other programs' load.
    """
    summary = dict(setting=setting, stages=results,
                   total_seconds=round(total_seconds, 1),
                   total_cpu_seconds=round(cpu_seconds, 1),
                   cams='cams.png')
    atomic_json_dump(summary, osp.join(work_dir, 'results.json'), indent=2)
    lines = [
        '| stage | learns from | top-1 on test (%) | training time (s) |',
        '|---|---|---:|---:|',
    ]
    for result in results:
        seconds = f'{result["train_seconds"]:.0f}'
        if result['reused']:
            seconds += ' (earlier run)'
        lines.append(f'| {result["name"]} | {result["learns_from"]} | '
                     f'{result["top1"]:.2f} | {seconds} |')
    table = '\n'.join(lines)
    with atomic_open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write('# CAT-KD demo: scikit-learn digits\n\n')
        f.write(f'{setting["description"]}\n\n{table}\n\n')
        f.write(f'Total time of this run: {total_seconds:.0f} s (CPU time '
                f'{cpu_seconds:.0f} s). Class activation maps: cams.png. '
                'What these numbers do and do not say: docs/demo.md.\n')
    return table


@entry_point
def main(argv=None):
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    teacher_dir = osp.abspath(args.teacher_dir or
                              osp.join(work_dir, 'teacher'))
    inputs = {'teacher config': args.teacher_config}
    check_output_folder(args.work_dir, inputs)
    check_output_folder(args.teacher_dir or osp.join(args.work_dir, 'teacher'),
                        inputs, option='--teacher-dir')
    if args.quick:
        check_quick_work_dir(work_dir)
    with claim_work_dir(work_dir, new_run=False):
        run_demo(args, work_dir, teacher_dir)


def run_demo(args, work_dir: str, teacher_dir: str) -> None:
    """The stages, the figure and the results of :func:`main`."""
    start, cpu_start = time.perf_counter(), time.process_time()
    teacher_ckpt = osp.join(teacher_dir, TEACHER_CKPT)
    stages = [stage for stage in STAGES if stage.key in args.stages]
    configs = [
        load_stage_config(stage, work_dir, args.quick, teacher_ckpt, args)
        for stage in stages
    ]

    settings = teacher_settings(configs[0])
    reuse = None if args.retrain_teacher else reusable_teacher(
        teacher_dir, settings)
    if reuse is None and not args.retrain_teacher:
        check_teacher_replaceable(teacher_dir)
    results, models = [], {}
    saving = None
    cat_stages = [i for i, stage in enumerate(stages)
                  if stage.key in ('catkd', 'cat_only')]
    for index, (stage, cfg) in enumerate(zip(stages, configs), 1):
        if args.teacher_cams and cat_stages and index - 1 == cat_stages[0]:
            cache = prepare_teacher_cams(cfg, work_dir)
            saving = teacher_cams_saving(cache,
                                         [configs[i] for i in cat_stages])
            for i in cat_stages:
                configs[i] = use_teacher_cams(configs[i], cache['folder'])
            cfg = configs[index - 1]
        result, model = run_stage(index, len(stages), stage, cfg, start,
                                  reuse if stage.key == 'teacher' else None)
        if stage.key == 'teacher' and reuse is None:
            atomic_json_dump(
                dict(settings=settings, top1=result['top1'],
                     train_seconds=result['train_seconds'],
                     quick=args.quick),
                osp.join(teacher_dir, TEACHER_RECORD))
        results.append(result)
        # two lines: the architecture under the method keeps columns narrow
        models[result['name'].replace(' (', '\n(')] = model

    images, labels, class_names = cam_images()
    figure = cam_figure(
        models, images, labels, class_names, topk=2,
        title='Class activation maps of the top-2 classes on test digits')
    atomic_savefig(figure, osp.join(work_dir, 'cams.png'), dpi=100)

    student_cfg = configs[1]
    cat_cfgs = [cfg for cfg in configs
                if 'cat_loss' in cfg.model.get('distiller', {})]
    cat_loss = (cat_cfgs[0].model.distiller.cat_loss if cat_cfgs else
                dict(loss_weight=None, normalize=None))
    setting = dict(
        dataset='scikit-learn digits (SklearnDigits), 1,198 train / 599 test',
        teacher=f'{model_name(configs[0])}, all training digits',
        student='ResNet-20 (CIFARResNet resnet20)',
        labelled_per_class=student_cfg.train_dataloader.dataset.num_per_class,
        student_steps=student_cfg.train_cfg.max_iters,
        student_batch_size=student_cfg.train_dataloader.batch_size,
        beta=cat_loss['loss_weight'],
        auto_betas={r['key']: r['auto_beta']
                    for r in results if 'auto_beta' in r},
        cat_normalize=cat_loss['normalize'],
        seed=student_cfg.randomness.seed,
        quick=args.quick)
    if saving is not None:
        setting['teacher_cams'] = {
            k: v for k, v in saving.items() if k != 'text'}
    setting['description'] = (
        f'Teacher: {setting["teacher"]}. Students: {setting["student"]}, '
        f'{setting["labelled_per_class"]} training digits per class, '
        f'{setting["student_steps"]} SGD steps of '
        f'{setting["student_batch_size"]} images, seed {setting["seed"]}; '
        f'CAT on {"l2-normalised" if setting["cat_normalize"] else "raw"} '
        f'2x2-pooled CAMs, beta {setting["beta"]}'
        + (' (--quick: results mean nothing).' if args.quick else '.')
        + (f' {saving["text"]}' if saving else ''))
    table = write_results(work_dir, setting, results,
                          time.perf_counter() - start,
                          time.process_time() - cpu_start)
    print(f'\n{table}\n\nTotal {elapsed(start)} '
          f'(CPU time {time.process_time() - cpu_start:.0f} s). Results in '
          f'{osp.join(work_dir, "results.md")} (and results.json), CAMs in '
          f'{osp.join(work_dir, "cams.png")}.', flush=True)
