"""mmcatkd from other projects' tools: the tools/train.py and tools/test.py
that the installed MMRazor and MMPretrain wheels ship (``.mim/tools/``),
found through the installed packages, on tiny CAT-KD runs."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmcatkd.run import resolve_tool
from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import (DIGITS_CATKD_CONFIG, DIGITS_STUDENT_CONFIG,
                            PROJECT_ROOT, TEST_CONFIGS, data_root_options,
                            write_image_folder)

USER_CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny_user.py')
DIGITS_CATKD = osp.join(PROJECT_ROOT, 'configs', DIGITS_CATKD_CONFIG)
DIGITS_STUDENT = osp.join(PROJECT_ROOT, 'configs', DIGITS_STUDENT_CONFIG)


def _wheel_tool(package: str, name: str) -> str:
    spec = importlib.util.find_spec(package)
    return osp.join(osp.dirname(spec.origin), '.mim', 'tools', name)


def _run(*command: str) -> str:
    result = subprocess.run([sys.executable, *command],
                            capture_output=True,
                            text=True,
                            cwd=PROJECT_ROOT,
                            timeout=300)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


def _losses(log: str) -> list:
    return [(float(ce), float(cat)) for ce, cat in re.findall(
        r'student\.loss: (\S+)\s+distill\.loss_cat: (\S+)', log)]


def test_run_resolves_tools_of_installed_packages():
    """`PACKAGE::tools/NAME.py` is the script in the installed wheel; a
    missing tool or package is one sentence saying what to give."""
    assert resolve_tool('mmrazor::tools/train.py') == _wheel_tool(
        'mmrazor', 'train.py')
    with pytest.raises(FileNotFoundError, match='no script at'):
        resolve_tool('mmrazor::tools/no_such_tool.py')
    with pytest.raises(
            FileNotFoundError, match="no installed package 'no_such_package'"):
        resolve_tool('no_such_package::tools/train.py')


@pytest.mark.parametrize('tool', [
    'mmrazor::../../mmpretrain/.mim/tools/misc/print_config.py',
    'mmrazor::/etc/hostname',
    'mmrazor::tools/../configs/_base_/default_runtime.py',
])
def test_run_refuses_package_paths_outside_its_tools(tool, capsys):
    """A `PACKAGE::` path must resolve inside PACKAGE's `.mim/tools`: one
    that climbs out (`..`, an absolute path) is refused in one sentence
    naming the tools folder, and nothing is run."""
    import mmcatkd.run
    tools_dir = osp.realpath(osp.dirname(_wheel_tool('mmrazor', 'x')))
    with pytest.raises(ValueError, match='outside mmrazor\'s tools folder'):
        resolve_tool(tool)
    with pytest.raises(SystemExit) as exit_info:
        mmcatkd.run.main([tool, '--help'])
    message = str(exit_info.value.code)
    assert message == message.strip() and '\n' not in message
    assert message.startswith(
        f"mmcatkd.run: error: {tool} is outside mmrazor's tools folder")
    assert f'({tools_dir})' in message
    assert capsys.readouterr().out == ''  # print_config's --help never ran


@pytest.mark.slow
def test_mmrazor_tools_train_and_test_a_user_catkd_config(tmp_path):
    """MMRazor's own train.py and test.py, started through `python -m
    mmcatkd.run` (they import MMRazor's quantization code before reading the
    config), train CAT-KD from a config whose `_base_` is `mmpretrain::...`
    (read before custom_imports, on a setuptools without pkg_resources),
    and test.py evaluates the saved checkpoint to the accuracy training
    reported for it."""
    images = write_image_folder(str(tmp_path / 'images'), per_class=2)
    options = ['--cfg-options', *data_root_options(images)]
    work_dir = str(tmp_path / 'train')
    train_log = _run('-m', 'mmcatkd.run', 'mmrazor::tools/train.py',
                     USER_CATKD, '--work-dir', work_dir, *options)
    losses = _losses(train_log)
    assert len(losses) == 2  # 8 images, batches of 4, one epoch
    assert all(cat > 0 for _, cat in losses)
    trained = re.findall(r'Epoch\(val\) \[1\]\[2/2\]\s+accuracy/top1: (\S+)',
                         train_log)
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    state = safe_torch_load(checkpoint)['state_dict']
    assert any(key.startswith('architecture.') for key in state)

    test_log = _run('-m', 'mmcatkd.run', 'mmrazor::tools/test.py', USER_CATKD,
                    checkpoint, '--work-dir', str(tmp_path / 'test'), *options)
    assert f'Load checkpoint from {checkpoint}' in test_log
    assert 'do not match exactly' not in test_log
    tested = re.findall(r'Epoch\(test\) \[2/2\]\s+accuracy/top1: (\S+)',
                        test_log)
    assert trained and tested == trained[-1:]


@pytest.mark.slow
def test_mmpretrain_train_runs_a_user_catkd_config_without_wrapper(tmp_path):
    """With the pinned setuptools (its pkg_resources serves MMEngine's
    package lookups), MMPretrain's own train.py reads a CAT-KD config whose
    `_base_` is `mmpretrain::...` before its custom_imports, and trains it
    with mmcatkd imported by custom_imports alone (no mmcatkd.run)."""
    images = write_image_folder(str(tmp_path / 'images'), per_class=2)
    log = _run(
        _wheel_tool('mmpretrain', 'train.py'), USER_CATKD, '--work-dir',
        str(tmp_path / 'train'), '--cfg-options', *data_root_options(images))
    losses = _losses(log)
    assert len(losses) == 2  # 8 images, batches of 4, one epoch
    assert all(cat > 0 for _, cat in losses)


@pytest.mark.slow
def test_mmpretrain_tools_run_the_digits_catkd_config(tmp_path):
    """MMPretrain's own train.py and test.py run the demo's CAT-KD config
    as they are (custom_imports is enough for them), although train.py
    turns persistent dataloader workers on by default."""
    work_dir = str(tmp_path / 'train')
    train_log = _run(
        _wheel_tool('mmpretrain', 'train.py'), DIGITS_CATKD, '--work-dir',
        work_dir, '--no-validate', '--cfg-options', 'train_cfg.max_iters=2',
        'model.teacher_ckpt=None', 'default_hooks.logger.interval=1')
    assert len(_losses(train_log)) == 2
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    test_log = _run(
        _wheel_tool('mmpretrain',
                    'test.py'), DIGITS_CATKD, checkpoint, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', 'model.teacher_ckpt=None',
        'test_dataloader.dataset.indices=100')
    assert f'Load checkpoint from {checkpoint}' in test_log
    assert 'do not match exactly' not in test_log
    assert re.search(r'Iter\(test\) \[1/1\]\s+accuracy/top1: \d', test_log)


@pytest.mark.slow
def test_mmpretrain_get_flops_counts_the_students_features(tmp_path):
    """MMPretrain's analysis_tools/get_flops.py on a CAT-KD config reports
    the FLOPs of the student's extract_feat (backbone + neck), the same as
    MMEngine's counter gives for the student's own config; the teacher's
    forward is not counted."""
    from mmengine.analysis import get_model_complexity_info
    from mmpretrain import get_model

    config = tmp_path / 'catkd_random_teacher.py'
    config.write_text(f"_base_ = ['{DIGITS_CATKD}']\n"
                      'model = dict(teacher_ckpt=None)\n')
    log = _run(
        _wheel_tool('mmpretrain', 'analysis_tools/get_flops.py'), str(config),
        '--shape', '32')
    reported = re.findall(r'^Flops: (\S+)$', log, re.M)

    student = get_model(DIGITS_STUDENT)
    student.forward = student.extract_feat
    expected = get_model_complexity_info(
        student, (3, 32, 32), show_table=False, show_arch=False)
    assert reported == [expected['flops_str']]
    assert expected['flops'] > 4e7  # ResNet-20 on 32x32: ~41 MFLOPs
