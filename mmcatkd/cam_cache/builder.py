"""Build a teacher-CAM cache: every view of every training image, once.

What ``tools/cache_teacher_cams.py`` runs (through
:func:`.commands.build_cache`). For a CAT-KD config whose train pipeline
has finitely many views (crops with padding, horizontal flips;
:mod:`.views`), the frozen teacher (eval mode, no grad) computes the
pooled-first r x r CAMs (Guo et al., CVPR 2023, Eq. 2 and 5; before the
loss's normalisation) of all views, in large batches, and they are written
to the format of :mod:`.format`.

Chunks of images are the unit of work: process ``rank`` of ``world_size``
takes chunks ``rank, rank + world_size, ...``; a chunk's marker is written
after its rows are flushed, with their checksum, so a killed run loses at
most its unfinished chunks and a rerun with the same arguments does only
those. A rerun checks the data too, not only the markers: a missing or
truncated array is created again (every chunk redone), and a chunk
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

from ..models.algorithms import CATDistill
from ..models.algorithms.frozen_teacher_distill import run_to_records
from ..models.algorithms.model_cfg import resolve_cfg_path
from ..models.algorithms.teacher import load_teacher_checkpoint
from ..models.distillers.cam_distiller import CAM_RECORDER, CAT_LOSS
from ..utils.errors import ConfigError, NoSpaceError
from .algorithm import CachedCATDistill, refuse_uncacheable_cat
from .format import (ARRAY, CHUNKS, DTYPES, MANIFEST, SAMPLE_IDX_KEY,
                     array_problem, array_shape, changed_chunks, chunk_ranges,
                     create_array, finished_chunks, forget_chunks,
                     manifest_differences, mark_chunk_done, new_manifest,
                     open_array, read_manifest, rows_digest, write_manifest)
from .identity import teacher_cam_identity, teacher_input_preprocessor
from .views import (PACK, dataset_fingerprint, describe_views, render_views,
                    split_pipeline, type_name)

#: the algorithms whose configs a cache can be built from
ALGORITHMS = (CATDistill.__name__, CachedCATDistill.__name__)


def _preprocessor_cfg(cfg: Config) -> Dict:
    """The algorithm's data preprocessor as MMEngine's Runner passes it."""
    model = cfg.model.to_dict()
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    preprocessor = teacher_input_preprocessor(
        model.get('data_preprocessor'), model['architecture'])
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
        if type_name(cfg.model) not in ALGORITHMS:
            raise ConfigError(
                f'{type_name(cfg.model) or "this model"} is not CAT-KD: '
                f'give a config whose model is {ALGORITHMS[0]} (or '
                f'{ALGORITHMS[1]}).')
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
            type='CAM',  # a CAMRecorder, as CAMDistiller adds
            source=recorder_cfg.source,
            head=recorder_cfg.head_name,
            output_size=recorder_cfg.output_size)
        preprocessor_cfg = _preprocessor_cfg(cfg)
        identity = teacher_cam_identity(model_cfg['teacher'],
                                        model_cfg.get('teacher_ckpt'),
                                        preprocessor_cfg, recorder_cfg.source,
                                        recorder_cfg.head_name,
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
                dict(type=PACK, meta_keys=(SAMPLE_IDX_KEY, ))
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
        self.manifest = new_manifest(
            identity,
            num_classes=self.teacher_and_recorder()[1].classifier.out_features,
            dtype=dtype,
            dataset=self.fingerprint,
            pipeline=dict(base=base, views=view_steps),
            views=self.views,
            chunk_images=chunk_images)

    def teacher_and_recorder(self):
        """The teacher (eval, frozen, on the device) and its CAM recorder."""
        if self._teacher is None:
            from mmrazor.models.task_modules import RecorderManager
            teacher = _build(self.teacher_cfg)
            load_teacher_checkpoint(teacher, self.teacher_ckpt)
            teacher.to(self.device).eval().requires_grad_(False)
            with DefaultScope.overwrite_default_scope('mmrazor'):
                recorders = RecorderManager({CAM_RECORDER: self.recorder_cfg})
                recorders.initialize(teacher)
            self._teacher = (teacher, recorders.recorders[CAM_RECORDER],
                             recorders)
            self._preprocessor = _build(self.preprocessor_cfg).to(self.device)
        return self._teacher

    @property
    def shape(self) -> tuple:
        return array_shape(self.manifest)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(
            self.manifest['dtype']).itemsize

    @property
    def chunks(self) -> List[range]:
        return chunk_ranges(self.manifest)

    def check_existing(self) -> bool:
        """Whether ``out`` already holds this cache (to be finished); refuse
        a cache of anything else."""
        if not osp.exists(osp.join(self.out, MANIFEST)):
            return False
        found = read_manifest(self.out)
        if found != self.manifest:
            differing = manifest_differences(
                self.manifest, found, sorted(set(found) | set(self.manifest)))
            raise ConfigError(
                f'{self.out} holds a teacher-CAM cache with another '
                f'{", ".join(differing)}: choose another --out or delete it.')
        return True

    def check_disk(self) -> None:
        """Refuse when the disk of ``out`` lacks room for the array."""
        os.makedirs(self.out, exist_ok=True)
        path = osp.join(self.out, ARRAY)
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
                write_manifest(self.out, self.manifest)
                return
            problem = array_problem(self.out, self.manifest)
            if problem:
                log(f'rank 0: {problem}: creating it again and redoing '
                    'every chunk')
                # Markers first: the array is only valid again after them.
                forget_chunks(self.out,
                              finished_chunks(self.out, self.manifest))
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
        changed = changed_chunks(
            self.out, self.manifest,
            [chunk for chunk in sorted(done) if chunk % world_size == rank])
        forget_chunks(self.out, changed)
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
            complete=len(finished_chunks(self.out,
                                         self.manifest)) == len(self.chunks))


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'
