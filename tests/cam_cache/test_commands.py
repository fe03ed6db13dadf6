"""What the command lines run: build_cache (tools/cache_teacher_cams.py)
builds the same cache as CacheBuilder and says its size first; the
launchers' ranks; use_teacher_cams (tools/train.py --teacher-cams)."""
import re

import numpy as np
import pytest
from mmengine.config import Config

from mmcatkd.cam_cache import TeacherCAMCache, build_cache, use_teacher_cams
from mmcatkd.cam_cache.commands import launcher_ranks
from tests.cam_cache.helpers import CONFIG


def test_build_cache_says_the_size_first_and_builds_the_whole_cache(
        teacher_ckpt, caches, tmp_path, capsys):
    """10 digits x (9 x 9 crops x 2 flips) x 10 classes x 2 x 2 in fp32:
    1620 teacher forwards, 259,200 bytes; three chunks of at most 4 images,
    the same array as CacheBuilder's."""
    folder = str(tmp_path / 'cams')
    summary = build_cache(
        CONFIG,
        folder,
        'float32',
        chunk_images=4,
        device='cpu',
        cfg_options={'model.teacher_ckpt': teacher_ckpt})
    lines = [  # without MMEngine's line as it loads the teacher
        line for line in capsys.readouterr().out.splitlines()
        if not line.startswith('Loads checkpoint')
    ]
    assert lines[0] == (f'{folder}: 10 images x 162 views x 10 classes x '
                        '2x2 in float32: 0.000 GiB (1620 teacher forwards)')
    assert re.fullmatch(
        r'rank 0: 3 chunks, 1620 views in [0-9.]+ s; cache complete',
        lines[-1])
    assert (summary['chunks'], summary['views']) == (3, 1620)
    array = TeacherCAMCache(folder).array
    assert array.nbytes == 259200
    np.testing.assert_array_equal(array,
                                  TeacherCAMCache(caches['float32']).array)


def test_launchers_give_rank_world_size_and_local_rank(monkeypatch):
    monkeypatch.setenv('RANK', '5')
    monkeypatch.setenv('WORLD_SIZE', '8')
    monkeypatch.setenv('LOCAL_RANK', '1')
    monkeypatch.setenv('SLURM_PROCID', '3')
    monkeypatch.setenv('SLURM_NTASKS', '4')
    monkeypatch.setenv('SLURM_LOCALID', '2')
    assert launcher_ranks('pytorch') == (5, 8, 1)
    assert launcher_ranks('slurm') == (3, 4, 2)
    assert launcher_ranks('none') == (0, 1, 0)


def test_teacher_cams_switch_a_config_to_the_cache():
    """The algorithm becomes the cached one in the config's scope,
    RandomCrop records its offset, PackInputs keeps MMPretrain's default
    keys plus the crop offset, the hook is added and the teacher's
    validation loop removed; other models are refused."""
    cfg = use_teacher_cams(Config.fromfile(CONFIG), 'cams')
    assert cfg.model.type == 'CachedCATDistill'
    assert cfg.model._scope_ == 'mmrazor'
    assert cfg.model.teacher_cams == 'cams'
    assert [step['type'] for step in cfg.train_dataloader.dataset.pipeline
            ] == ['ViewRandomCrop', 'RandomFlip', 'PackInputs']
    assert cfg.train_dataloader.dataset.pipeline[-1]['meta_keys'] == (
        'sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
        'flip', 'flip_direction', 'crop_offset')
    assert cfg.custom_hooks[-1] == dict(type='TeacherCAMCacheHook')
    assert cfg.val_cfg == dict()

    scoped = Config.fromfile(CONFIG)
    scoped.model.type = 'mmrazor.CATDistill'
    scoped.train_dataloader.dataset.pipeline[0].type = 'mmpretrain.RandomCrop'
    scoped = use_teacher_cams(scoped, 'cams')
    assert scoped.model.type == 'mmrazor.CachedCATDistill'
    assert scoped.train_dataloader.dataset.pipeline[0].type == (
        'mmpretrain.ViewRandomCrop')

    other = Config.fromfile(CONFIG)
    other.model.type = 'MultiTeacherDistill'
    with pytest.raises(ValueError, match='this model is MultiTeacherDistill'):
        use_teacher_cams(other, 'cams')
