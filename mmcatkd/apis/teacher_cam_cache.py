"""Build a teacher-CAM cache: every view of every training image, once.

What ``tools/cache_teacher_cams.py`` runs. For a CAT-KD config whose train
pipeline has finitely many views (crops with padding, horizontal flips;
:mod:`mmcatkd.datasets.views`), the frozen teacher (eval mode, no grad)
computes the pooled-first r x r CAMs (Guo et al., CVPR 2023, Eq. 2 and 5;
before the loss's normalisation) of all views, in large batches, and they
are written to the format of :mod:`mmcatkd.utils.cam_cache`.

Chunks of images are the unit of work: process ``rank`` of ``world_size``
takes chunks ``rank, rank + world_size, ...``; a chunk's marker is written
after its rows are flushed, with their checksum, so a killed run loses at
most its unfinished chunks and a rerun with the same arguments does only
those. A rerun checks the data too, not only the markers: a missing or
truncated ``cams.npy`` is created again (every chunk redone), and a chunk
whose rows no longer match their checksum is redone.
"""
import copy
import os
import os.path as osp
import shutil
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS
from mmrazor.registry import MODELS

from ..datasets.views import (DEFAULT_META_KEYS, VIEW_META_KEYS,
                              dataset_fingerprint, describe_views,
                              render_views, split_pipeline)
from ..utils.atomic_file import atomic_json_dump
from ..models.algorithms.cached_cat_distill import (refuse_uncacheable_cat,
                                                    teacher_cam_identity)
from ..models.algorithms.frozen_teacher_distill import run_to_records
from ..models.algorithms.model_cfg import (default_cls_preprocessor,
                                           resolve_cfg_path)
from ..models.algorithms.teacher import load_teacher_checkpoint
from ..models.distillers.cam_distiller import CAM_RECORDER, CAT_LOSS
from ..utils.cam_cache import (CHUNKS, DTYPES, FORMAT_VERSION, MANIFEST,
                               array_problem, array_shape, chunk_digest,
                               chunk_marker, chunk_ranges, create_array,
                               finished_chunks, jsonable, mark_chunk_done,
                               open_array, read_manifest, rows_digest)
from ..utils.errors import ConfigError, NoSpaceError

ALGORITHMS = ('CATDistill', 'CachedCATDistill')


def _model_type(model_cfg: Dict) -> str:
    return str(model_cfg.get('type', '')).split('.')[-1]


def _preprocessor_cfg(cfg: Config) -> Dict:
    """The algorithm's data preprocessor as MMEngine's Runner passes it."""
    model = cfg.model.to_dict()
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    preprocessor = default_cls_preprocessor(model.get('data_preprocessor'))
    if preprocessor is None:
        preprocessor = resolve_cfg_path(
            model['architecture']).get('data_preprocessor')
    if preprocessor and preprocessor.get('batch_augments'):
        raise ConfigError(
            'the data preprocessor has batch_augments (Mixup, CutMix...), '
            'which mix images at random: teacher CAMs cannot be cached, so '
            'train with the online teacher.')
    return preprocessor


def _build(cfg: Dict):
    """Build in MMRazor's registry as the algorithm does, whatever default
    scope an earlier Runner left (unscoped types are MMRazor's)."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(copy.deepcopy(cfg))


class CacheBuilder:
    """Plans and builds the cache of one config; see the module docstring.

    Args:
        cfg (Config): a ``CATDistill`` or ``CachedCATDistill`` config.
        out (str): the cache directory.
        dtype (str): 'float16' (default) or 'float32'.
        chunk_images (int): images per chunk. Defaults to 256.
        device (str): where the teacher runs. Defaults to 'cpu'.
    """

    def __init__(self,
                 cfg: Config,
                 out: str,
                 dtype: str = 'float16',
                 chunk_images: int = 256,
                 device: str = 'cpu') -> None:
        if _model_type(cfg.model) not in ALGORITHMS:
            raise ConfigError(
                f'{_model_type(cfg.model) or "this model"} is not CAT-KD: '
                'give a config whose model is CATDistill (or '
                'CachedCATDistill).')
        if dtype not in DTYPES:
            raise ConfigError(f'dtype must be one of {DTYPES}, got {dtype!r}.')
        if not isinstance(chunk_images, int) or chunk_images < 1:
            raise ConfigError('chunk_images must be an integer >= 1, got '
                              f'{chunk_images!r}.')
        self.out = out
        self.device = torch.device(device)
        model_cfg = cfg.model.to_dict()
        distiller = _build(model_cfg['distiller'])
        refuse_uncacheable_cat(distiller.distill_losses[CAT_LOSS])
        recorder_cfg = distiller.teacher_recorders.recorders[CAM_RECORDER]
        self.recorder_cfg = dict(
            type='CAM',
            source=recorder_cfg.source,
            head=recorder_cfg.head_name,
            output_size=recorder_cfg.output_size)
        preprocessor_cfg = _preprocessor_cfg(cfg)
        identity = teacher_cam_identity(
            model_cfg['teacher'], model_cfg.get('teacher_ckpt'),
            preprocessor_cfg, recorder_cfg.source, recorder_cfg.head_name,
            recorder_cfg.output_size)
        pipeline = cfg.train_dataloader.dataset.get('pipeline')
        if pipeline is None:
            raise ConfigError(
                'train_dataloader.dataset has no pipeline of its own (a '
                'dataset wrapper?): the teacher-CAM cache needs a plain '
                'dataset with its train pipeline.')
        base, view_steps = split_pipeline([dict(step) for step in pipeline])
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            dataset_cfg = cfg.train_dataloader.dataset.to_dict()
            dataset_cfg['pipeline'] = base + [
                dict(type='PackInputs', meta_keys=('sample_idx', ))
            ]
            self.dataset = DATASETS.build(dataset_cfg)
            self.fingerprint = dataset_fingerprint(self.dataset)
            first = self.dataset[0]['inputs']
        self.views = describe_views(view_steps, tuple(first.shape[-2:]))
        self.teacher_cfg = resolve_cfg_path(model_cfg['teacher'])
        self.teacher_ckpt = model_cfg['teacher_ckpt']
        self.preprocessor_cfg = preprocessor_cfg
        self._teacher = None
        self._preprocessor = None
        self.manifest = jsonable(dict(
            format_version=FORMAT_VERSION,
            **identity,
            num_classes=self.teacher_and_recorder()[1].classifier.out_features,
            dtype=dtype,
            dataset=self.fingerprint,
            pipeline=dict(base=base, views=view_steps),
            views=self.views,
            chunk_images=chunk_images))

    def teacher_and_recorder(self):
        """The teacher (eval, frozen, on the device) and its CAM recorder."""
        if self._teacher is None:
            from mmrazor.models.task_modules import RecorderManager
            teacher = _build(self.teacher_cfg)
            load_teacher_checkpoint(teacher, self.teacher_ckpt)
            teacher.to(self.device).eval().requires_grad_(False)
            with DefaultScope.overwrite_default_scope('mmrazor'):
                recorders = RecorderManager(dict(cam=self.recorder_cfg))
                recorders.initialize(teacher)
            self._teacher = (teacher, recorders.recorders['cam'], recorders)
            self._preprocessor = _build(self.preprocessor_cfg).to(
                self.device)
        return self._teacher

    @property
    def shape(self) -> tuple:
        return array_shape(self.manifest)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(
            self.manifest['dtype']).itemsize

    @property
    def chunks(self):
        return chunk_ranges(self.fingerprint['length'],
                            self.manifest['chunk_images'])

    def check_existing(self) -> bool:
        """Whether ``out`` already holds this cache (to be finished); refuse
        a cache of anything else."""
        if not osp.exists(osp.join(self.out, MANIFEST)):
            return False
        found = read_manifest(self.out)
        if found != self.manifest:
            differing = sorted(
                key for key in set(found) | set(self.manifest)
                if found.get(key) != self.manifest.get(key))
            raise ConfigError(
                f'{self.out} holds a teacher-CAM cache with another '
                f'{", ".join(differing)}: choose another --out or delete it.')
        return True

    def check_disk(self) -> None:
        """Refuse when the disk of ``out`` lacks room for the array."""
        os.makedirs(self.out, exist_ok=True)
        path = osp.join(self.out, 'cams.npy')
        allocated = (os.stat(path).st_blocks * 512 if osp.exists(path) else 0)
        free = shutil.disk_usage(self.out).free
        if free + allocated < self.nbytes:
            raise NoSpaceError(
                f'the cache needs {self.nbytes / 2**30:.2f} GiB and '
                f'{self.out} has {(free + allocated) / 2**30:.2f} GiB free: '
                'free space or choose another --out.')

    def prepare(self,
                rank: int = 0,
                timeout: float = 600.0,
                log: Callable[[str], None] = print) -> None:
        """Rank 0 creates the array and the manifest unless they exist, and
        creates the array again (forgetting every chunk) when it is missing
        or truncated; other ranks wait until both are there."""
        os.makedirs(osp.join(self.out, CHUNKS), exist_ok=True)
        if rank == 0:
            if not self.check_existing():
                self.check_disk()
                create_array(self.out, self.manifest)
                atomic_json_dump(self.manifest, osp.join(self.out, MANIFEST),
                                 indent=1, sort_keys=True)
                return
            problem = array_problem(self.out, self.manifest)
            if problem:
                log(f'rank 0: {problem}: creating it again and redoing '
                    'every chunk')
                # Markers first: the array is only valid again after them.
                for chunk in finished_chunks(self.out, self.manifest):
                    os.remove(chunk_marker(self.out, chunk))
                self.check_disk()
                create_array(self.out, self.manifest)
            return
        deadline = time.monotonic() + timeout
        while not osp.exists(osp.join(self.out, MANIFEST)) or array_problem(
                self.out, self.manifest):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f'rank 0 did not create {self.out} within {timeout} s.')
            time.sleep(0.5)
        self.check_existing()

    def forget_changed_chunks(self, chunks) -> List[int]:
        """Remove the markers of those of ``chunks`` (marked done) whose
        rows no longer match the checksum in their marker (or whose marker
        has none); returns them."""
        array = open_array(self.out, self.manifest, 'r')
        changed = [
            chunk for chunk in chunks
            if chunk_digest(self.out, chunk) != rows_digest(
                array[self.chunks[chunk].start:self.chunks[chunk].stop])
        ]
        del array
        for chunk in changed:
            os.remove(chunk_marker(self.out, chunk))
        return changed

    @torch.no_grad()
    def cams_of_views(self, views: torch.Tensor) -> torch.Tensor:
        """Pooled teacher CAMs (B, K, r, r), fp32, of uint8 views
        (B, C, h, w), exactly as the training step's teacher computes them."""
        teacher, recorder, recorders = self.teacher_and_recorder()
        inputs = self._preprocessor(dict(inputs=views.to(self.device)),
                                    False)['inputs']
        with recorders:
            run_to_records(teacher, recorder.source == 'backbone', inputs)
        return recorder.data_buffer[0].float()

    def build_chunk(self, chunk: int, batch_size: int) -> None:
        """Compute, write and flush one chunk, then mark it done."""
        indices = self.chunks[chunk]
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            images = [self.dataset[i]['inputs'] for i in indices]
        shapes = {tuple(image.shape[-2:]) for image in images}
        if shapes != {tuple(self.views['image_shape'])}:
            raise ConfigError(
                f'images of sizes {sorted(shapes)} after the deterministic '
                'steps of the pipeline: the cache needs images of one size '
                f"({tuple(self.views['image_shape'])}).")
        views = render_views(torch.stack(images), self.views)
        flat = views.flatten(0, 1)
        cams = torch.cat([
            self.cams_of_views(flat[start:start + batch_size])
            for start in range(0, len(flat), batch_size)
        ])
        values = cams.view(len(indices), views.shape[1],
                           *cams.shape[1:]).cpu().numpy()
        values = values.astype(self.manifest['dtype'])
        if not np.isfinite(values).all():
            raise ConfigError(
                'teacher CAMs beyond the range of '
                f"{self.manifest['dtype']}: build the cache with --dtype "
                'float32.')
        array = open_array(self.out, self.manifest, 'r+')
        array[indices.start:indices.stop] = values
        array.flush()
        del array
        mark_chunk_done(self.out, chunk, rows_digest(values))

    def build(self,
              rank: int = 0,
              world_size: int = 1,
              batch_size: int = 512,
              log: Callable[[str], None] = print,
              max_chunks: Optional[int] = None) -> Dict:
        """Build this process's share of the chunks not yet done.

        Returns:
            dict: ``chunks`` done now, ``views`` computed, ``seconds``.
        """
        self.prepare(rank, log=log)
        done = set(finished_chunks(self.out, self.manifest))
        changed = self.forget_changed_chunks(
            [chunk for chunk in sorted(done) if chunk % world_size == rank])
        if changed:
            log(f'rank {rank}: chunks {", ".join(map(str, changed))} differ '
                'from the checksums of their markers: redoing them')
        done -= set(changed)
        mine = [
            chunk for chunk in range(len(self.chunks))
            if chunk % world_size == rank and chunk not in done
        ]
        if max_chunks is not None:
            mine = mine[:max_chunks]
        per_image = self.shape[1]
        started = time.monotonic()
        log(f'rank {rank}/{world_size}: {len(mine)} chunks to do, '
            f'{len(done)} of {len(self.chunks)} already done')
        for position, chunk in enumerate(mine, 1):
            self.build_chunk(chunk, batch_size)
            elapsed = time.monotonic() - started
            eta = elapsed / position * (len(mine) - position)
            views = sum(len(self.chunks[c]) for c in mine[:position])
            log(f'rank {rank}: chunk {position}/{len(mine)} '
                f'({views * per_image / elapsed:.0f} views/s, elapsed '
                f'{_clock(elapsed)}, ETA {_clock(eta)})')
        return dict(
            chunks=len(mine),
            views=sum(len(self.chunks[c]) for c in mine) * per_image,
            seconds=time.monotonic() - started,
            complete=len(finished_chunks(self.out, self.manifest)) == len(
                self.chunks))


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'



def use_teacher_cams(cfg: Config, folder: str) -> Config:
    """``cfg`` (a ``CATDistill`` config) switched to the cache in ``folder``.

    The model becomes ``CachedCATDistill(teacher_cams=folder)`` (the teacher
    is then never built), the train pipeline's ``RandomCrop`` a
    ``ViewRandomCrop`` (the same images, with the offset recorded) and its
    ``PackInputs`` keeps ``sample_idx``, ``crop_offset`` and ``flip``;
    ``TeacherCAMCacheHook`` checks the cache against the data before
    training, and validation is the student's (there is no teacher to
    validate). What ``tools/train.py --teacher-cams DIR`` does.
    """
    if _model_type(cfg.model) != 'CATDistill':
        raise ConfigError(
            f'--teacher-cams replaces the teacher of a CATDistill config, '
            f'and this model is {_model_type(cfg.model) or "not one"}.')
    scope = str(cfg.model.type)[:-len('CATDistill')]
    cfg.model.type = scope + 'CachedCATDistill'
    cfg.model.teacher_cams = folder
    pipeline = cfg.train_dataloader.dataset.pipeline
    for step in pipeline:
        name = str(step['type'])
        if name.split('.')[-1] == 'RandomCrop':
            step['type'] = name[:-len('RandomCrop')] + 'ViewRandomCrop'
        if name.split('.')[-1] == 'PackInputs':
            kept = list(step.get('meta_keys', DEFAULT_META_KEYS))
            step['meta_keys'] = tuple(kept + [
                key for key in VIEW_META_KEYS if key not in kept])
    hooks = list(cfg.get('custom_hooks', []))
    hooks.append(dict(type='TeacherCAMCacheHook'))
    cfg.custom_hooks = hooks
    if 'SingleTeacherDistillValLoop' in str(cfg.get('val_cfg', {}).get(
            'type', '')):
        cfg.val_cfg = dict()
    return cfg
