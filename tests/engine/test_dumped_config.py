"""The config tools/train.py dumps into the work directory is the whole
truth of the run: trained by MMPretrain's own train.py (which adds no hook
of ours), it runs with the same hooks, in the same order and with the same
priorities, as the run of tools/train.py that wrote it."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from tests.conftest import PROJECT_ROOT, TEST_CONFIGS
from tests.reliability.helpers import child_env

DIGITS_CATKD = osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py')


def _train(work_dir: str, script: str, config: str, *args: str) -> list:
    """Train with ``script``; the hooks the run had (``hooks.json``)."""
    result = subprocess.run(
        [sys.executable, script, config, '--work-dir', work_dir, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        env=child_env())
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with open(osp.join(work_dir, 'hooks.json')) as f:
        return [tuple(hook) for hook in json.load(f)]


@pytest.mark.slow
def test_mmpretrain_train_py_on_the_dumped_config_runs_the_same_hooks(
        tmp_path):
    config = tmp_path / 'recorded_digits.py'
    config.write_text(
        f'_base_ = [{DIGITS_CATKD!r}]\n'
        "custom_imports = dict(imports=['mmcatkd', "
        "'tests.engine.hooks_recorder'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='HooksRecorder')]\n"
        'train_cfg = dict(max_epochs=1)\n')
    ours = str(tmp_path / 'ours')
    ours_hooks = _train(ours, osp.join(PROJECT_ROOT, 'tools', 'train.py'),
                        str(config))
    dumped = osp.join(ours, 'recorded_digits.py')
    cfg = Config.fromfile(dumped)
    assert cfg.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook'
    assert [hook['type'] for hook in cfg.custom_hooks] == [
        'HooksRecorder', 'RNGStateHook', 'NonFiniteLossHook',
        'PreflightCheckHook', 'CheckpointMatchHook', 'ResumeCheckHook',
        'BroadcastBuffersHook'
    ]
    ours_names = [name for name, _ in ours_hooks]
    for name in ('CrashSafeCheckpointHook', 'RNGStateHook',
                 'BroadcastBuffersHook', 'HooksRecorder'):
        assert ours_names.count(name) == 1, ours_names
    assert 'CheckpointHook' not in ours_names

    spec = importlib.util.find_spec('mmpretrain')
    mmpretrain_train = osp.join(
        osp.dirname(spec.origin), '.mim', 'tools', 'train.py')
    theirs = str(tmp_path / 'theirs')
    assert _train(theirs, mmpretrain_train, dumped) == ours_hooks
    assert osp.isfile(osp.join(theirs, 'epoch_1.pth'))
