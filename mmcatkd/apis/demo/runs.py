"""The demo run: its stages trained in order (the teacher reused or
trained), the CAM figure, and results.md / results.json."""
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ...cam_cache import use_teacher_cams
from ...datasets import SklearnDigits
from ...engine.hooks import auto_betas
from ...utils.atomic_file import atomic_json_dump, atomic_open, atomic_savefig
from ...utils.checkpoint import CorruptCheckpointError, UnsafeCheckpointError
from ...visualization import cam_figure
from .stages import (CONFIG_DIR, PROJECT_ROOT, STAGES, Stage,
                     load_stage_config, model_name, stage_description)
from .teacher_cams import prepare_teacher_cams, teacher_cams_saving
from .teacher_reuse import (TEACHER_CKPT, TEACHER_RECORD,
                            check_teacher_replaceable, reusable_teacher,
                            teacher_settings)

NUM_CAM_IMAGES = 4


class LastValMetrics(Hook):
    """Keeps the metrics of the last validation (the test split here)."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Dict[str, float] = {}

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})


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


def run_stage(index: int,
              total: int,
              stage: Stage,
              cfg: Config,
              start: float,
              reuse: Optional[dict] = None) -> Tuple[dict, object]:
    """Train (or, for a reused teacher, only evaluate) one stage, the
    ``index``-th of ``total``.

    Returns:
        tuple: the stage's result row and its trained classifier.
    """
    name = stage.name.format(teacher=model_name(cfg))
    print(
        f'\n=== Stage {index}/{total}: {name}, '
        f'{stage_description(stage, cfg)} '
        f'[{elapsed(start)} elapsed] ===',
        flush=True)
    metrics_hook = LastValMetrics()
    if reuse is not None:
        ckpt = osp.join(cfg.work_dir, TEACHER_CKPT)
        print(
            f'Reusing the teacher trained by an earlier run: {ckpt} '
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
    print(
        f'Stage {index}/{total} {name}: top-1 '
        f'{result["top1"]:.2f}% on the test split '
        f'({"reused, " if reuse else ""}'
        f'{result["train_seconds"]:.0f} s training)',
        flush=True)
    return result, classifier(runner)


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
    summary = dict(
        setting=setting,
        stages=results,
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


def run_demo(args, work_dir: str, teacher_dir: str) -> None:
    """The stages, the figure and the results of ``tools/demo.py`` with
    its parsed arguments ``args``, in ``work_dir`` (claimed by the caller)
    with the teacher in ``teacher_dir``."""
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
    cat_stages = [
        i for i, stage in enumerate(stages)
        if stage.key in ('catkd', 'cat_only')
    ]
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
                dict(
                    settings=settings,
                    top1=result['top1'],
                    train_seconds=result['train_seconds'],
                    quick=args.quick), osp.join(teacher_dir, TEACHER_RECORD))
        results.append(result)
        # two lines: the architecture under the method keeps columns narrow
        models[result['name'].replace(' (', '\n(')] = model

    images, labels, class_names = cam_images()
    figure = cam_figure(
        models,
        images,
        labels,
        class_names,
        topk=2,
        title='Class activation maps of the top-2 classes on test digits')
    atomic_savefig(figure, osp.join(work_dir, 'cams.png'), dpi=100)

    student_cfg = configs[1]
    cat_cfgs = [
        cfg for cfg in configs if 'cat_loss' in cfg.model.get('distiller', {})
    ]
    cat_loss = (
        cat_cfgs[0].model.distiller.cat_loss if cat_cfgs else dict(
            loss_weight=None, normalize=None))
    setting = dict(
        dataset='scikit-learn digits (SklearnDigits), 1,198 train / 599 test',
        teacher=f'{model_name(configs[0])}, all training digits',
        student='ResNet-20 (CIFARResNet resnet20)',
        labelled_per_class=student_cfg.train_dataloader.dataset.num_per_class,
        student_steps=student_cfg.train_cfg.max_iters,
        student_batch_size=student_cfg.train_dataloader.batch_size,
        beta=cat_loss['loss_weight'],
        auto_betas={
            r['key']: r['auto_beta']
            for r in results if 'auto_beta' in r
        },
        cat_normalize=cat_loss['normalize'],
        seed=student_cfg.randomness.seed,
        quick=args.quick)
    if saving is not None:
        setting['teacher_cams'] = {
            k: v
            for k, v in saving.items() if k != 'text'
        }
    setting['description'] = (
        f'Teacher: {setting["teacher"]}. Students: {setting["student"]}, '
        f'{setting["labelled_per_class"]} training digits per class, '
        f'{setting["student_steps"]} SGD steps of '
        f'{setting["student_batch_size"]} images, seed {setting["seed"]}; '
        f'CAT on {"l2-normalised" if setting["cat_normalize"] else "raw"} '
        f'2x2-pooled CAMs, beta {setting["beta"]}' +
        (' (--quick: results mean nothing).' if args.quick else '.') +
        (f' {saving["text"]}' if saving else ''))
    table = write_results(work_dir, setting, results,
                          time.perf_counter() - start,
                          time.process_time() - cpu_start)
    print(
        f'\n{table}\n\nTotal {elapsed(start)} '
        f'(CPU time {time.process_time() - cpu_start:.0f} s). Results in '
        f'{osp.join(work_dir, "results.md")} (and results.json), CAMs in '
        f'{osp.join(work_dir, "cams.png")}.',
        flush=True)
