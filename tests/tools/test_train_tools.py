"""tools/train.py, --resume, tools/export_student.py, tools/test.py and
tools/dist_train.sh, end to end on generated images."""
import os.path as osp
import re

import pytest
import torch

from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS, data_root_options
from tests.zygote import run_command

CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny.py')
STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')


def _tool(name, *args, timeout=300):
    # a command, forked from a pre-imported interpreter (tests/zygote.py)
    result = run_command([osp.join(PROJECT_ROOT, 'tools', name), *args],
                         cwd=PROJECT_ROOT,
                         timeout=timeout)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory, image_folder):  # noqa: F811
    """Two epochs of CAT-KD through tools/train.py, then --resume to 3."""
    work_dir = str(tmp_path_factory.mktemp('catkd_tiny'))
    options = ['--cfg-options', *data_root_options(image_folder)]
    first = _tool('train.py', CATKD, '--work-dir', work_dir, *options)
    second = _tool('train.py', CATKD, '--work-dir', work_dir, '--resume',
                   *options, 'train_cfg.max_epochs=3')
    return work_dir, first, second


def test_training_logs_both_losses_and_both_accuracies(trained_run):
    """The log shows the student's CE and loss_cat per iteration, finite,
    and validation reports student and teacher accuracy."""
    _, first, _ = trained_run
    values = re.findall(r'student\.loss: (\S+)\s+distill\.loss_cat: (\S+)',
                        first)
    assert len(values) == 12  # 2 epochs x 6 iterations
    assert all(
        torch.isfinite(torch.tensor([float(a), float(b)])).all()
        for a, b in values)
    assert 'teacher.accuracy/top1' in first


def test_resume_continues_from_the_latest_checkpoint(trained_run):
    """--resume without a path loads the work dir's latest checkpoint and
    trains epoch 3 only."""
    work_dir, _, second = trained_run
    assert 'resumed epoch: 2, iter: 12' in second
    assert 'Epoch(train) [1]' not in second
    assert 'Epoch(train) [3][6/6]' in second
    checkpoint = safe_torch_load(osp.join(work_dir, 'epoch_3.pth'))
    assert checkpoint['meta']['epoch'] == 3
    assert checkpoint['meta']['iter'] == 18


def test_exported_student_evaluates_with_the_student_config(
        trained_run, image_folder, tmp_path):  # noqa: F811
    """export_student.py keeps only the student (no teacher, no prefix);
    tools/test.py with the student's own config gives the accuracy the
    distillation run reported for its student."""
    work_dir, _, second = trained_run
    exported = str(tmp_path / 'student.pth')
    _tool('export_student.py', osp.join(work_dir, 'epoch_3.pth'), exported)
    state = safe_torch_load(exported)['state_dict']
    assert state and not any(
        key.startswith(('teacher', 'architecture', 'distiller'))
        for key in state)
    output = _tool('test.py', STUDENT, exported, '--work-dir',
                   str(tmp_path / 'test'), '--cfg-options',
                   f'test_dataloader.dataset.data_root={image_folder}')
    tested = re.search(r'Epoch\(test\).*accuracy/top1: (\S+)', output)
    reported = re.findall(r'Epoch\(val\) \[3\].*accuracy/top1: (\S+)  teacher',
                          second)
    assert tested and reported
    assert float(tested.group(1)) == pytest.approx(float(reported[-1]))


def test_exported_student_loads_into_plain_image_classifier(
        trained_run, tmp_path):
    """The exported file loads strictly into an MMPretrain ImageClassifier
    built from the student's config."""
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS
    work_dir, _, _ = trained_run
    exported = str(tmp_path / 'student.pth')
    _tool('export_student.py', osp.join(work_dir, 'epoch_3.pth'), exported)
    model = MODELS.build(Config.fromfile(STUDENT).model)
    load_checkpoint(model, exported, strict=True)
