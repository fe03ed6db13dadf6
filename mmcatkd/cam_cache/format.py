"""The on-disk format of a teacher-CAM cache, and its reader.

CAT-KD (Guo et al., CVPR 2023, Eq. 5) compares student CAMs with the
teacher's CAMs average-pooled to r x r. The teacher is frozen, so for a
training pipeline with finitely many views per image (CIFAR's RandomCrop 32
with padding 4 and a horizontal flip: 81 x 2) every teacher CAM a run can
need is computed once (:mod:`.builder`) and looked up here.

A cache directory holds:

- ``manifest.json`` (:data:`MANIFEST`): what the CAMs are of (the
  teacher's identity, :mod:`.identity`: config and checkpoint hashes, data
  preprocessor, CAM source, r; then dataset fingerprint, pipeline, views,
  K, dtype), from which the array's shape follows;
- ``cams.npy`` (:data:`ARRAY`): pooled teacher CAMs before any
  normalisation, shape (num_images, num_views, K, r, r), fp16 or fp32, read
  memory-mapped;
- ``chunks/NNNNNN.done`` (:data:`CHUNKS`): one marker per finished chunk of
  images, written after the chunk's rows are flushed, holding the sha256 of
  those rows, so a killed run redoes only the chunks without a marker and a
  rerun finds rows changed since (:func:`rows_digest`).

A view is (crop offset, flip). Its index is
``flip_position * n_h * n_w + offset_h * n_w + offset_w`` (``n_h``, ``n_w``
the numbers of crop offsets), see :func:`view_index`; a training sample
names its image and view by the metainfo keys :data:`VIEW_META_KEYS`.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..utils.atomic_file import atomic_json_dump, atomic_write
from ..utils.errors import ConfigError

FORMAT_VERSION = 1
MANIFEST = 'manifest.json'
ARRAY = 'cams.npy'
CHUNKS = 'chunks'
DTYPES = ('float16', 'float32')
#: the tool that builds, finishes and repairs a cache (named by refusals)
TOOL = 'tools/cache_teacher_cams.py'
#: the metainfo keys of a training sample that name its image and view
SAMPLE_IDX_KEY = 'sample_idx'
CROP_OFFSET_KEY = 'crop_offset'  # (offset_h, offset_w), see view_index
FLIP_KEY = 'flip'
VIEW_META_KEYS = (SAMPLE_IDX_KEY, CROP_OFFSET_KEY, FLIP_KEY)
#: the steps of the manifest's ``views['order']``, in pipeline order
CROP_STEP, FLIP_STEP = 'crop', 'flip'


def jsonable(obj: Any) -> Any:
    """``obj`` as the manifest stores it (tuples as lists, ConfigDicts as
    dicts), so that a fresh description compares equal to a read one."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def new_manifest(identity: Dict, num_classes: int, dtype: str, dataset: Dict,
                 pipeline: Dict, views: Dict, chunk_images: int) -> Dict:
    """The manifest of a cache, as :func:`read_manifest` will return it.

    Args:
        identity (dict): :func:`.identity.teacher_cam_identity`.
        num_classes (int): K, the teacher's classes.
        dtype (str): one of :data:`DTYPES`.
        dataset (dict): ``type``, ``length`` (the number of images) and
            ``sha256`` of the training set.
        pipeline (dict): ``base`` (the deterministic steps) and ``views``
            (the random ones) of the train pipeline.
        views (dict): the crop offsets and flips (see :func:`view_index`).
        chunk_images (int): images per chunk.
    """
    return jsonable(
        dict(
            format_version=FORMAT_VERSION,
            **identity,
            num_classes=num_classes,
            dtype=dtype,
            dataset=dataset,
            pipeline=pipeline,
            views=views,
            chunk_images=chunk_images))


def write_manifest(folder: str, manifest: Dict) -> None:
    """Write ``manifest`` into ``folder``, atomically."""
    atomic_json_dump(
        manifest, osp.join(folder, MANIFEST), indent=1, sort_keys=True)


def num_views(views: Dict) -> int:
    """How many views the ``views`` description of a manifest has."""
    return views['offsets_h'] * views['offsets_w'] * len(views['flips'])


def view_index(views: Dict, offset_h: int, offset_w: int, flip: bool) -> int:
    """The index of view (crop offset, flip) in the cache's view axis.

    Args:
        views (dict): the manifest's ``views``: ``offsets_h``, ``offsets_w``
            (numbers of crop offsets, 1 without a crop) and ``flips`` (the
            flip states the pipeline produces, e.g. ``[False, True]``).
        offset_h, offset_w (int): the crop's top-left corner in the padded
            image (0, 0 without a crop).
        flip (bool): whether the view is mirrored horizontally.
    """
    n_h, n_w = views['offsets_h'], views['offsets_w']
    if not (0 <= offset_h < n_h and 0 <= offset_w < n_w
            and flip in views['flips']):
        raise ConfigError(
            f'view (crop offset ({offset_h}, {offset_w}), flip {flip}) is '
            f'not one of the cached views ({n_h} x {n_w} offsets, flips '
            f"{views['flips']}): the train pipeline differs from the one the "
            'cache was built for.')
    return (views['flips'].index(flip) * n_h + offset_h) * n_w + offset_w


def read_manifest(folder: str) -> Dict:
    """The manifest of the cache in ``folder``."""
    path = osp.join(folder, MANIFEST)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{folder} holds no teacher-CAM cache ({MANIFEST} is missing): '
            f'build one with {TOOL} CONFIG --out {folder}.')
    with open(path) as file:
        return json.load(file)


def manifest_differences(expected: Dict, found: Dict,
                         keys: Sequence[str]) -> List[str]:
    """The ``keys`` whose values differ between two manifests."""
    return [key for key in keys if expected.get(key) != found.get(key)]


def array_shape(manifest: Dict) -> tuple:
    """(num_images, num_views, K, r, r) of the cache's array."""
    r = manifest['resolution']
    return (manifest['dataset']['length'], num_views(manifest['views']),
            manifest['num_classes'], r, r)


def chunk_ranges(manifest: Dict) -> List[range]:
    """Image ranges of the cache's chunks, in order."""
    num_images = manifest['dataset']['length']
    chunk_images = manifest['chunk_images']
    return [
        range(start, min(start + chunk_images, num_images))
        for start in range(0, num_images, chunk_images)
    ]


def chunk_marker(folder: str, chunk: int) -> str:
    return osp.join(folder, CHUNKS, f'{chunk:06d}.done')


def rows_digest(rows: np.ndarray) -> str:
    """sha256 of the bytes of a chunk's rows, as its marker stores it."""
    return hashlib.sha256(np.ascontiguousarray(rows).data).hexdigest()


def mark_chunk_done(folder: str, chunk: int, digest: str) -> None:
    """Write the marker of a chunk whose flushed rows have ``digest``."""
    atomic_write(digest.encode(), chunk_marker(folder, chunk))


def chunk_digest(folder: str, chunk: int) -> str:
    """The digest a chunk's marker stores ('' for a marker without one)."""
    with open(chunk_marker(folder, chunk), 'rb') as file:
        return file.read().decode('ascii', 'replace').strip()


def changed_chunks(folder: str, manifest: Dict,
                   chunks: Sequence[int]) -> List[int]:
    """Those of ``chunks`` (marked done) whose rows no longer match the
    checksum in their marker, or whose marker holds none."""
    array = open_array(folder, manifest, 'r')
    ranges = chunk_ranges(manifest)
    return [
        chunk for chunk in chunks if chunk_digest(folder, chunk) !=
        rows_digest(array[ranges[chunk].start:ranges[chunk].stop])
    ]


def forget_chunks(folder: str, chunks: Sequence[int]) -> None:
    """Remove the markers of ``chunks``: they are to be done again."""
    for chunk in chunks:
        os.remove(chunk_marker(folder, chunk))


def finished_chunks(folder: str, manifest: Dict) -> List[int]:
    """Indices of the chunks whose rows are written and flushed."""
    total = len(chunk_ranges(manifest))
    return [c for c in range(total) if osp.exists(chunk_marker(folder, c))]


def array_problem(folder: str, manifest: Dict) -> Optional[str]:
    """What keeps ``cams.npy`` from holding the manifest's array (missing,
    not a ``.npy`` file, another shape or dtype, truncated), or None. Reads
    the header and the file size only."""
    path = osp.join(folder, ARRAY)
    if not osp.isfile(path):
        return f'{path} is missing'
    with open(path, 'rb') as file:
        try:
            version = np.lib.format.read_magic(file)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0) else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(file)
        except ValueError as err:
            return f'{path} is not a .npy array ({err})'
        offset = file.tell()
    expected_shape = array_shape(manifest)
    expected_dtype = np.dtype(manifest['dtype'])
    if (shape, dtype, fortran_order) != (expected_shape, expected_dtype,
                                         False):
        return (f'{path} holds a {dtype} array of shape {shape}, its '
                f'manifest says {expected_dtype} {expected_shape}')
    size = os.stat(path).st_size
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if size != expected:
        return (f'{path} has {size} bytes instead of {expected} (truncated '
                'or overwritten)')
    return None


def create_array(folder: str, manifest: Dict) -> None:
    """Create (or replace) ``cams.npy``, sparse: no disk is used before
    rows are written. Created under a temporary name and renamed into
    place, so that other processes never open a half-made file."""
    handle, temp_path = tempfile.mkstemp(
        prefix=ARRAY + '.', suffix='.tmp', dir=folder)
    os.close(handle)
    try:
        np.lib.format.open_memmap(
            temp_path,
            mode='w+',
            dtype=np.dtype(manifest['dtype']),
            shape=array_shape(manifest)).flush()
        os.replace(temp_path, osp.join(folder, ARRAY))
    except BaseException:
        os.remove(temp_path)
        raise


def open_array(folder: str, manifest: Dict, mode: str) -> np.ndarray:
    """The cache's array, memory-mapped (``mode`` 'r' or 'r+'); with 'w+'
    created (sparse: no disk is used before rows are written)."""
    path = osp.join(folder, ARRAY)
    if mode == 'w+':
        return np.lib.format.open_memmap(
            path,
            mode='w+',
            dtype=np.dtype(manifest['dtype']),
            shape=array_shape(manifest))
    return np.load(path, mmap_mode=mode)


class TeacherCAMCache:
    """Reads the pooled teacher CAMs of a finished cache.

    Args:
        folder (str): the cache directory.

    Raises:
        FileNotFoundError: ``folder`` holds no manifest.
        ValueError: the cache is unfinished, of another format version, or
            its array is missing or truncated (each with the sentence that
            says to rerun :data:`TOOL`).
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.manifest = read_manifest(folder)
        if self.manifest.get('format_version') != FORMAT_VERSION:
            raise ConfigError(
                f'{folder} is a teacher-CAM cache of format version '
                f"{self.manifest.get('format_version')}, this mmcatkd reads "
                f'version {FORMAT_VERSION}: rebuild it with {TOOL}.')
        total = len(chunk_ranges(self.manifest))
        done = len(finished_chunks(folder, self.manifest))
        if done != total:
            raise ConfigError(
                f'the teacher-CAM cache in {folder} is unfinished ({done} of '
                f'{total} chunks): run {TOOL} again with the same arguments '
                'to finish it.')
        problem = array_problem(folder, self.manifest)
        if problem:
            raise ConfigError(
                f'the teacher-CAM cache in {folder} is damaged: {problem}; '
                f'run {TOOL} again with the same arguments, which checks '
                'every chunk and rebuilds what is missing or corrupt.')
        self.views = self.manifest['views']
        self._array: Optional[np.ndarray] = None

    @property
    def array(self) -> np.ndarray:
        """(num_images, num_views, K, r, r), opened at first use (so that
        forked dataloader or DDP processes each map it themselves)."""
        if self._array is None:
            self._array = open_array(self.folder, self.manifest, 'r')
        return self._array

    def lookup(self, sample_indices: Sequence[int],
               view_indices: Sequence[int]) -> np.ndarray:
        """Pooled teacher CAMs (N, K, r, r) of the given images and views,
        in the cache's dtype."""
        length = self.manifest['dataset']['length']
        for index in sample_indices:
            if not 0 <= index < length:
                raise ConfigError(
                    f'sample index {index} is outside the {length} images '
                    'of the cached dataset: train on the dataset the cache '
                    'was built for.')
        return self.array[np.asarray(sample_indices), np.asarray(view_indices)]
