"""The demo's five runs and their configs (configs/demo/).

Each stage is one MMEngine run; :func:`load_stage_config` gives its config
with the demo's work directory, teacher checkpoint and options
(``tools/demo.py --num-per-class/--seed/--beta/--teacher-config``) applied.
"""
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional

from mmengine.config import Config

from ...utils.project_files import project_root

PROJECT_ROOT = project_root()
CONFIG_DIR = osp.join(PROJECT_ROOT, 'configs', 'demo')
QUICK_ITERS = 3
QUICK_TEST_IMAGES = 40


@dataclass
class Stage:
    """One run of the demo: its key (``--stages``), its name and what it
    learns from (templates filled by :func:`stage_description`), and its
    config in configs/demo/."""
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


def load_stage_config(stage: Stage,
                      work_dir: str,
                      quick: bool,
                      teacher_ckpt: str,
                      args=None) -> Config:
    """The stage's config with the demo's work dir and teacher checkpoint,
    and the options of ``args`` (see :func:`apply_options`)."""
    config = stage.config
    if stage.key == 'teacher' and args is not None and args.teacher_config:
        config = osp.abspath(args.teacher_config)
    cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
    cfg.work_dir = (
        osp.dirname(teacher_ckpt) if stage.key == 'teacher' else osp.join(
            work_dir, stage.key))
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
            cfg.custom_hooks = list(cfg.get(
                'custom_hooks', [])) + [dict(type='CATAutoBetaHook')]
    if 'teacher' in cfg.model and args.teacher_config:
        teacher = Config.fromfile(osp.abspath(args.teacher_config)).model
        cfg.model.teacher = teacher.to_dict()


def stage_description(stage: Stage,
                      cfg: Config,
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
        n=cfg.train_dataloader.dataset.get('num_per_class'),
        beta=beta,
        teacher=model_name(cfg))


def model_name(cfg: Config) -> str:
    """'ResNet-56' for the demo's teacher, else the backbone's type and
    arch."""
    backbone = cfg.model.get('backbone', {})
    if backbone.get('arch') == 'resnet56':
        return 'ResNet-56'
    return ' '.join(
        str(backbone.get(key)) for key in ('type', 'arch')
        if backbone.get(key) is not None)
