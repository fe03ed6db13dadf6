"""What the command lines run: building a cache and training from one.

``tools/cache_teacher_cams.py`` is :func:`build_cache` (one process's share
of the chunks, its launcher's rank in the environment);
``tools/train.py CONFIG --teacher-cams DIR`` applies
:func:`use_teacher_cams` to CONFIG.
"""
import os
import sys
from typing import Dict, Optional

import torch
from mmengine.config import Config

from ..datasets import check_datasets
from ..models.algorithms import CATDistill
from ..utils.errors import ConfigError
from ..utils.output_paths import check_output_folder
from .algorithm import CachedCATDistill
from .builder import CacheBuilder
from .format import MANIFEST, VIEW_META_KEYS
from .hook import TeacherCAMCacheHook
from .views import DEFAULT_META_KEYS, PACK, RANDOM_CROP, VIEW_CROP, type_name


def use_teacher_cams(cfg: Config, folder: str) -> Config:
    """``cfg`` (a ``CATDistill`` config) switched to the cache in ``folder``.

    The model becomes ``CachedCATDistill(teacher_cams=folder)`` (the teacher
    is then never built), the train pipeline's ``RandomCrop`` a
    ``ViewRandomCrop`` (the same images, with the offset recorded) and its
    ``PackInputs`` keeps ``sample_idx``, ``crop_offset`` and ``flip``;
    ``TeacherCAMCacheHook`` checks the cache against the data before
    training, and validation is the student's (there is no teacher to
    validate). Registry scopes in the config's type names are kept.
    """
    online, cached = CATDistill.__name__, CachedCATDistill.__name__
    if type_name(cfg.model) != online:
        raise ConfigError(
            f'--teacher-cams replaces the teacher of a {online} config, '
            f'and this model is {type_name(cfg.model) or "not one"}.')
    scope = str(cfg.model.type)[:-len(online)]
    cfg.model.type = scope + cached
    cfg.model.teacher_cams = folder
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        if type_name(step) == RANDOM_CROP:
            step['type'] = str(step['type'])[:-len(RANDOM_CROP)] + VIEW_CROP
        if type_name(step) == PACK:
            kept = list(step.get('meta_keys', DEFAULT_META_KEYS))
            step['meta_keys'] = tuple(
                kept + [key for key in VIEW_META_KEYS if key not in kept])
    hooks = list(cfg.get('custom_hooks', []))
    hooks.append(dict(type=TeacherCAMCacheHook.__name__))
    cfg.custom_hooks = hooks
    if 'SingleTeacherDistillValLoop' in str(
            cfg.get('val_cfg', {}).get('type', '')):
        cfg.val_cfg = dict()
    return cfg


#: how the processes of a sharded build can be started
LAUNCHERS = ('none', 'pytorch', 'slurm')


def launcher_ranks(launcher: str):
    """(rank, world size, local rank) from the environment of a launcher
    (:data:`LAUNCHERS`): 'pytorch' (torchrun, ``tools/dist_*.sh``), 'slurm'
    (srun) or 'none'."""
    if launcher == 'pytorch':
        return (int(os.environ['RANK']), int(os.environ['WORLD_SIZE']),
                int(os.environ.get('LOCAL_RANK', 0)))
    if launcher == 'slurm':
        return (int(os.environ['SLURM_PROCID']),
                int(os.environ['SLURM_NTASKS']),
                int(os.environ.get('SLURM_LOCALID', 0)))
    return 0, 1, 0


def build_cache(config: str,
                out: str,
                dtype: str = 'float16',
                chunk_images: int = 256,
                batch_size: int = 512,
                device: Optional[str] = None,
                launcher: str = 'none',
                cfg_options: Optional[Dict] = None) -> Dict:
    """What ``tools/cache_teacher_cams.py`` does: this process's share of
    the cache of ``config`` in ``out``, its size printed first, a line per
    chunk on stderr, a summary last. ``out`` must be new, empty or a cache
    (one of the config's inputs or a folder of other files is refused).

    Args:
        config (str): a ``CATDistill`` or ``CachedCATDistill`` config file.
        out, dtype, chunk_images: see :class:`CacheBuilder`.
        batch_size (int): views per teacher forward. Defaults to 512.
        device (str, optional): where the teacher runs. Defaults to this
            process's GPU if there is one, else the CPU.
        launcher (str): how the processes were started (see
            :func:`launcher_ranks`); each takes every WORLD_SIZE-th chunk.
        cfg_options (dict, optional): overrides merged into the config.

    Returns:
        dict: :meth:`CacheBuilder.build`'s summary.
    """
    rank, world_size, local_rank = launcher_ranks(launcher)
    device = device or (f'cuda:{local_rank}'
                        if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    # Only rank 0 creates the cache: the others may find its array before
    # its manifest.
    check_output_folder(
        out,
        dict(
            config=config, checkpoint=cfg.get('model',
                                              {}).get('teacher_ckpt')),
        option='--out',
        marker=MANIFEST if rank == 0 else None,
        holds='a teacher-CAM cache')
    check_datasets(cfg, ('train_dataloader', ))
    builder = CacheBuilder(cfg, out, dtype, chunk_images, device)
    shape = builder.shape
    print(
        f'{out}: {shape[0]} images x {shape[1]} views x {shape[2]} classes '
        f'x {shape[3]}x{shape[4]} in {dtype}: '
        f'{builder.nbytes / 2**30:.3f} GiB ({shape[0] * shape[1]} teacher '
        'forwards)',
        flush=True)
    summary = builder.build(
        rank,
        world_size,
        batch_size,
        log=lambda line: print(line, file=sys.stderr, flush=True))
    state = 'complete' if summary['complete'] else 'other ranks still busy'
    print(f"rank {rank}: {summary['chunks']} chunks, {summary['views']} views "
          f"in {summary['seconds']:.1f} s; cache {state}")
    return summary
