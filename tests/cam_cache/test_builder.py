"""The cache builder: a killed build, a damaged array or changed rows are
redone on a rerun, shards make the whole cache, and its refusals."""
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest

from mmcatkd.cam_cache import CacheBuilder, TeacherCAMCache
from mmcatkd.cam_cache.format import chunk_marker
from tests.cam_cache.helpers import build_test_cache, config_of


def test_a_killed_build_redoes_only_unfinished_chunks(teacher_ckpt, caches,
                                                      tmp_path):
    """A build stopped after one chunk, with garbage in the rows of a chunk
    it was writing (no marker), is refused for training; the rerun does the
    remaining chunks only and the result equals an uninterrupted build."""
    folder = str(tmp_path / 'cams')
    first = build_test_cache(teacher_ckpt, folder, 'float32', max_chunks=1)
    assert first['chunks'] == 1 and not first['complete']
    with pytest.raises(ValueError, match='unfinished .1 of 3 chunks'):
        TeacherCAMCache(folder)
    array = np.load(osp.join(folder, 'cams.npy'), mmap_mode='r+')
    array[4:6] = 1e4  # a half-written second chunk
    array.flush()
    del array
    assert not osp.exists(chunk_marker(folder, 1))
    marker_time = os.stat(chunk_marker(folder, 0)).st_mtime_ns
    second = build_test_cache(teacher_ckpt, folder, 'float32')
    assert second['chunks'] == 2 and second['complete']
    assert os.stat(chunk_marker(folder, 0)).st_mtime_ns == marker_time
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


def _copy_cache(source, tmp_path):
    folder = str(tmp_path / 'cams')
    shutil.copytree(source, folder)
    return folder


@pytest.mark.parametrize('damage', ['truncated', 'deleted'])
def test_a_rerun_rebuilds_a_truncated_or_deleted_array(teacher_ckpt, caches,
                                                       tmp_path, damage):
    """A complete cache whose cams.npy lost its end or was deleted: training
    refuses it with the sentence to rerun the tool (it was a bare numpy
    error), and the rerun redoes every chunk (it said "0 chunks to do,
    cache complete") and gives the uninterrupted build's array."""
    folder = _copy_cache(caches['float32'], tmp_path)
    path = osp.join(folder, 'cams.npy')
    if damage == 'truncated':
        os.truncate(path, os.path.getsize(path) - 100)
        problem = 'has [0-9]+ bytes instead of [0-9]+ .truncated'
    else:
        os.remove(path)
        problem = 'is missing'
    with pytest.raises(ValueError) as info:
        TeacherCAMCache(folder)
    assert re.search(
        f'the teacher-CAM cache in {folder} is damaged: {path} {problem}',
        str(info.value))
    assert str(info.value).endswith(
        'run tools/cache_teacher_cams.py again with the same arguments, '
        'which checks every chunk and rebuilds what is missing or corrupt.')
    lines = []
    builder = CacheBuilder(config_of(teacher_ckpt), folder, 'float32', 4)
    summary = builder.build(log=lines.append)
    assert summary['chunks'] == 3 and summary['complete']
    assert lines[0].startswith(f'rank 0: {path} ') and lines[0].endswith(
        ': creating it again and redoing every chunk')
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


def test_a_rerun_redoes_chunks_whose_rows_changed(teacher_ckpt, caches,
                                                  tmp_path):
    """One flipped byte in the rows of chunk 1 and a marker without a
    checksum (chunk 2): the rerun redoes those two chunks only and the
    array equals the uninterrupted build's again."""
    folder = _copy_cache(caches['float32'], tmp_path)
    offset = np.load(osp.join(folder, 'cams.npy'), mmap_mode='r').offset
    row_bytes = TeacherCAMCache(folder).array[0].nbytes
    with open(osp.join(folder, 'cams.npy'), 'r+b') as file:
        file.seek(offset + 5 * row_bytes + 7)  # image 5: chunk 1
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    with open(chunk_marker(folder, 2), 'wb'):
        pass  # a marker that holds no checksum
    marker_time = os.stat(chunk_marker(folder, 0)).st_mtime_ns
    assert not np.array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)
    lines = []
    summary = CacheBuilder(config_of(teacher_ckpt), folder, 'float32',
                           4).build(log=lines.append)
    assert summary['chunks'] == 2 and summary['complete']
    assert lines[0] == ('rank 0: chunks 1, 2 differ from the checksums of '
                        'their markers: redoing them')
    assert os.stat(chunk_marker(folder, 0)).st_mtime_ns == marker_time
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


@pytest.mark.slow
def test_shards_together_build_the_whole_cache(teacher_ckpt, caches, tmp_path):
    """Two processes' shares (every 2nd chunk each) make the same cache."""
    folder = str(tmp_path / 'cams')
    first = build_test_cache(
        teacher_ckpt, folder, 'float32', rank=0, world_size=2)
    second = build_test_cache(
        teacher_ckpt, folder, 'float32', rank=1, world_size=2)
    assert (first['chunks'], second['chunks']) == (2, 1)
    assert not first['complete'] and second['complete']
    np.testing.assert_array_equal(
        TeacherCAMCache(folder).array,
        TeacherCAMCache(caches['float32']).array)


@pytest.mark.slow
def test_out_holding_another_cache_and_a_full_disk_are_refused(
        teacher_ckpt, caches, monkeypatch, tmp_path):
    cfg = config_of(teacher_ckpt)
    cfg.train_dataloader.dataset.num_per_class = 2
    with pytest.raises(ValueError, match='holds a teacher-CAM cache'):
        CacheBuilder(cfg, caches['float32'], 'float32',
                     4).build(log=lambda line: None)
    import shutil
    monkeypatch.setattr(shutil, 'disk_usage',
                        lambda path: shutil._ntuple_diskusage(1, 1, 1000))
    with pytest.raises(OSError, match='needs 0.00 GiB and .* has'):
        build_test_cache(teacher_ckpt, str(tmp_path / 'cams'), 'float32')
    assert not osp.exists(tmp_path / 'cams' / 'cams.npy')


def test_a_pipeline_with_a_continuous_random_transform_is_refused(
        teacher_ckpt, tmp_path):
    cfg = config_of(teacher_ckpt)
    cfg.train_dataloader.dataset.pipeline.insert(
        0, dict(type='ColorJitter', brightness=0.4))
    with pytest.raises(ValueError, match='ColorJitter.*online teacher'):
        CacheBuilder(cfg, str(tmp_path / 'cams'))
