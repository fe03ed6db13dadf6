"""tools/cache_teacher_cams.py and tools/train.py --teacher-cams, end to end:
build the cache as a user does, train on it, resume."""
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS

CONFIG = osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py')


def _tool(name, *args):
    result = subprocess.run(
        [sys.executable, osp.join(PROJECT_ROOT, 'tools', name), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300)
    return result, result.stdout + result.stderr


@pytest.mark.slow
def test_cache_then_train_and_resume_without_the_teacher(tmp_path):
    """The tool prints the size first, then chunks with an ETA; training with
    --teacher-cams checks the cache, logs CE and CAT every step, never builds
    the teacher (no teacher accuracy) and resumes."""
    torch.manual_seed(3)
    teacher = MODELS.build(
        resolve_cfg_path(Config.fromfile(CONFIG).model.teacher.to_dict()))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cams, work_dir = str(tmp_path / 'cams'), str(tmp_path / 'work')
    result, output = _tool('cache_teacher_cams.py', CONFIG, '--out', cams,
                           '--chunk-images', '4', '--cfg-options',
                           f'model.teacher_ckpt={ckpt}')
    assert result.returncode == 0, output[-3000:]
    assert re.search(r'10 images x 162 views x 10 classes x 2x2 in float16: '
                     r'0\.000 GiB \(1620 teacher forwards\)', result.stdout)
    assert re.findall(r'chunk \d/3 .*ETA', result.stderr) and (
        'cache complete' in result.stdout)

    options = ['--cfg-options', f'model.teacher_ckpt={ckpt}']
    result, first = _tool('train.py', CONFIG, '--work-dir', work_dir,
                          '--teacher-cams', cams, *options)
    assert result.returncode == 0, first[-3000:]
    losses = re.findall(r'student\.loss: (\S+)\s+distill\.loss_cat: (\S+)',
                        first)
    assert len(losses) == 2  # 2 epochs x 1 iteration (10 images, batch 8)
    assert 'teacher.accuracy' not in first and 'accuracy/top1' in first
    result, second = _tool('train.py', CONFIG, '--work-dir', work_dir,
                           '--teacher-cams', cams, '--resume', *options,
                           'train_cfg.max_epochs=3')
    assert result.returncode == 0, second[-3000:]
    assert 'resumed epoch: 2' in second and 'Epoch(train) [3]' in second

