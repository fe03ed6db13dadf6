"""tools/cache_teacher_cams.py and tools/train.py --teacher-cams, end to end:
build the cache as a user does, train on it, resume."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

from mmcatkd.cam_cache import CacheBuilder
from mmcatkd.cli import train as train_tool
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS

CONFIG = osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py')


def _tool(name, *args):
    result = subprocess.run(
        [sys.executable,
         osp.join(PROJECT_ROOT, 'tools', name), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300)
    return result, result.stdout + result.stderr


@pytest.mark.slow
def test_sharded_cache_then_ddp_training_and_resume_without_the_teacher(
        tmp_path):
    """Two torchrun processes share the chunks of one cache (the size printed
    first, then chunks with an ETA); two DDP processes (gloo) train on it
    through tools/dist_train.sh --teacher-cams, checking it first, logging CE
    and CAT every step, never building the teacher (no teacher accuracy);
    tools/train.py --resume continues in one process."""
    torch.manual_seed(3)
    teacher = MODELS.build(
        resolve_cfg_path(Config.fromfile(CONFIG).model.teacher.to_dict()))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cams, work_dir = str(tmp_path / 'cams'), str(tmp_path / 'work')
    # 20 images: 10 per DDP process, one batch of 8 each
    options = [
        '--cfg-options', f'model.teacher_ckpt={ckpt}',
        'train_dataloader.dataset.num_per_class=2'
    ]
    result = subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port', '29517',
        osp.join(PROJECT_ROOT, 'tools', 'cache_teacher_cams.py'), CONFIG,
        '--out', cams, '--chunk-images', '4', '--launcher', 'pytorch', *options
    ],
                            capture_output=True,
                            text=True,
                            cwd=PROJECT_ROOT,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(
        r'20 images x 162 views x 10 classes x 2x2 in float16: '
        r'0\.000 GiB \(3240 teacher forwards\)', result.stdout)
    assert len(re.findall(r'rank [01]: chunk \d/\d .*ETA', output)) == 5
    assert 'cache complete' in result.stdout

    result = subprocess.run([
        'bash',
        osp.join(PROJECT_ROOT, 'tools', 'dist_train.sh'), CONFIG, '2',
        '--work-dir', work_dir, '--teacher-cams', cams, *options
    ],
                            capture_output=True,
                            text=True,
                            cwd=PROJECT_ROOT,
                            timeout=300,
                            env=dict(
                                os.environ,
                                PYTHON=sys.executable,
                                PORT='29518'))
    first = result.stdout + result.stderr
    assert result.returncode == 0, first[-3000:]
    losses = re.findall(r'student\.loss: (\S+)\s+distill\.loss_cat: (\S+)',
                        first)
    assert len(losses) == 2  # 2 epochs x 1 iteration, logged by rank 0
    assert 'teacher.accuracy' not in first and 'accuracy/top1' in first
    result, second = _tool('train.py', CONFIG, '--work-dir', work_dir,
                           '--teacher-cams', cams, '--resume', *options,
                           'train_cfg.max_epochs=3')
    assert result.returncode == 0, second[-3000:]
    assert 'resumed epoch: 2' in second and 'Epoch(train) [3]' in second


@pytest.mark.slow
def test_training_on_a_truncated_cache_says_to_rerun_the_tool(
        tmp_path, capsys):
    """tools/train.py --teacher-cams on a cache whose cams.npy was cut
    short: one sentence naming the file and the rerun of the cache tool
    (which rebuilds it), before any training; it was numpy's "mmap length
    is greater than file size"."""
    torch.manual_seed(3)
    teacher = MODELS.build(
        resolve_cfg_path(Config.fromfile(CONFIG).model.teacher.to_dict()))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg = Config.fromfile(CONFIG)
    cfg.model.teacher_ckpt = ckpt
    cams = str(tmp_path / 'cams')
    CacheBuilder(cfg, cams, 'float16', 4).build(log=lambda line: None)
    array = osp.join(cams, 'cams.npy')
    os.truncate(array, osp.getsize(array) // 2)
    work_dir = tmp_path / 'work'
    with pytest.raises(SystemExit) as info:
        train_tool.main([
            CONFIG, '--work-dir',
            str(work_dir), '--teacher-cams', cams, '--cfg-options',
            f'model.teacher_ckpt={ckpt}'
        ])
    assert info.value.code == 1
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    assert re.search(
        f'train.py: error: .*the teacher-CAM cache in {cams} is damaged: '
        f'{array} has [0-9]+ bytes instead of [0-9]+ .truncated or '
        'overwritten.; run tools/cache_teacher_cams.py again with the same '
        'arguments', stderr)
    assert not list(work_dir.glob('*.pth'))
