"""Bad input that still ended in a raw traceback now ends in one sentence
(docs/reliability.md, "Faults tried"): a config with a syntax error or
without ``model``, a negative batch size, zero processes, an automatic
beta without its window, and check_pair.py's advice to use --cfg-options.

Tools run in this process (``main(argv)``) unless they are shell scripts.
"""
import glob
import os
import os.path as osp
import subprocess
from importlib import import_module

import pytest

from mmcatkd.cli import check_pair as check_pair_tool
from mmcatkd.cli import recipes as recipes_tool
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS
from tests.reliability.helpers import CATKD, train_in_process

STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')


def _error_line(capsys, tool: str) -> str:
    """The one error sentence ``tool`` printed (asserts its form)."""
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    error = [
        line for line in stderr.strip().splitlines()
        if line.startswith(f'{tool}: error:')
    ]
    assert len(error) == 1, stderr[-2000:]
    return error[0]


def _fails(capsys, tool: str, *argv, code=1) -> str:
    with pytest.raises(SystemExit) as info:
        import_module('mmcatkd.cli.' + tool[:-len('.py')]).main(list(argv))
    assert info.value.code == code
    return _error_line(capsys, tool)


@pytest.fixture
def broken_config(tmp_path):
    """A config whose line 3 leaves a parenthesis of line 2 open."""
    path = tmp_path / 'broken.py'
    path.write_text(f"_base_ = [{STUDENT!r}]\n"
                    'train_cfg = dict(max_epochs=1,\n'
                    'val_cfg = dict()\n')
    return str(path)


SYNTAX = "has a syntax error at line 2: '(' was never closed: fix the config"


def test_config_syntax_error_train(broken_config, capsys):
    line = _fails(capsys, 'train.py', broken_config)
    assert line == f'train.py: error: the config {broken_config} {SYNTAX} ' \
        'file.'


def test_config_syntax_error_check_pair(broken_config, capsys):
    line = _fails(capsys, 'check_pair.py', broken_config, STUDENT,
                  '--no-timing')
    assert f'the config {broken_config} {SYNTAX}' in line


def test_config_syntax_error_recipes(broken_config, tmp_path, capsys,
                                     monkeypatch):
    """recipes.py check on a config of the table that does not parse."""
    recipes = recipes_tool
    config = tmp_path / 'configs' / 'broken.py'
    config.parent.mkdir()
    os.replace(broken_config, config)
    monkeypatch.setattr(recipes, 'PROJECT_ROOT', str(tmp_path))
    monkeypatch.setattr(
        recipes, 'load_table', lambda: dict(
            groups={}, fields={}, experiments={'configs/broken.py': {}}))
    line = _fails(capsys, 'recipes.py', 'check', 'configs/broken.py')
    assert f'the config {config} {SYNTAX}' in line


@pytest.fixture
def no_model(tmp_path):
    path = tmp_path / 'no_model.py'
    path.write_text(f"_base_ = [{osp.join(TEST_CONFIGS, 'tiny_data.py')!r}]\n")
    return str(path)


NO_MODEL = ("defines no `model`: give a config that does (model = "
            "dict(type='ImageClassifier', ...) or a distillation algorithm), "
            'directly or through _base_.')


def test_config_without_model_train(no_model, tmp_path, capsys):
    """It was ``train.py: error: model``."""
    line = _fails(capsys, 'train.py', no_model, '--work-dir',
                  str(tmp_path / 'work'))
    assert line == f'train.py: error: {no_model} {NO_MODEL}'


def test_config_without_model_check_pair(no_model, capsys):
    """It was an AttributeError traceback."""
    line = _fails(capsys, 'check_pair.py', no_model, STUDENT, '--no-timing')
    assert line == f'check_pair.py: error: {no_model} {NO_MODEL}'


@pytest.mark.parametrize('tool, option', [('benchmark.py', '--batch-size'),
                                          ('benchmark.py', '--input-size'),
                                          ('check_pair.py', '--batch-size'),
                                          ('check_pair.py', '--iters')])
def test_negative_size_is_a_usage_error(tool, option, capsys):
    """``--batch-size -4`` was a RuntimeError traceback about a tensor with
    a negative dimension, after the models were built."""
    argv = (['--config', STUDENT, '--student-config', STUDENT]
            if tool == 'benchmark.py' else [STUDENT, STUDENT])
    with pytest.raises(SystemExit) as info:
        import_module('mmcatkd.cli.' + tool[:-len('.py')]).main(argv +
                                                                [option, '-4'])
    assert info.value.code == 2
    stderr = capsys.readouterr().err
    # argparse names the program after sys.argv[0] (here pytest's)
    assert stderr.splitlines()[-1].endswith(
        f': error: argument {option}: -4 is not an integer >= 1')
    assert 'Traceback' not in stderr


@pytest.mark.parametrize('gpus', ['0', '-1', 'two'])
def test_dist_train_with_no_process_is_refused(tmp_path, gpus):
    """``dist_train.sh CONFIG 0`` was torchrun's AssertionError traceback;
    now a sentence, exit status 2, before torchrun starts."""
    calls = tmp_path / 'calls'
    python = tmp_path / 'python'
    python.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    python.chmod(0o755)
    for script in ('dist_train.sh', 'dist_test.sh'):
        args = ['c.py', gpus
                ] if script == 'dist_train.sh' else ['c.py', 'ckpt.pth', gpus]
        result = subprocess.run(
            [osp.join(PROJECT_ROOT, 'tools', script), *args],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHON=str(python)))
        assert result.returncode == 2
        assert result.stderr == (
            f'{script}: error: GPUS is the number of processes to start on '
            f"this node, an integer >= 1, not '{gpus}'.\n")
        assert not calls.exists()


@pytest.mark.slow
def test_auto_beta_without_its_window(tmp_path, image_folder,
                                      capsys):  # noqa: F811
    """``loss_weight='auto'`` with neither CATAutoBetaHook nor auto_iters
    was a RuntimeError traceback at the first step; now one sentence that
    gives both ways, before any checkpoint."""
    work_dir = str(tmp_path / 'work')
    with pytest.raises(SystemExit):
        train_in_process(CATKD, work_dir, image_folder,
                         'model.distiller.cat_loss.loss_weight=auto')
    line = _error_line(capsys, 'train.py')
    assert line == (
        "train.py: error: loss_weight='auto' needs its measuring window: set "
        'auto_iters=N (iterations) next to it in the loss config, or add '
        "dict(type='CATAutoBetaHook') to custom_hooks (one epoch).")
    assert not glob.glob(osp.join(work_dir, '*.pth'))


@pytest.mark.slow
def test_check_pair_advice_to_use_cfg_options_works(tmp_path, image_folder,
                                                    capsys):  # noqa: F811
    """A CAT-KD config whose teacher checkpoint is missing: check_pair.py
    advises ``--cfg-options model.teacher_ckpt=None``, a flag it did not
    have; with the flag the window runs on a random teacher."""
    config = tmp_path / 'catkd.py'
    missing = tmp_path / 'teacher.pth'
    config.write_text(f'_base_ = [{CATKD!r}]\n'
                      f'model = dict(teacher_ckpt={str(missing)!r})\n')
    data = [
        f'{split}_dataloader.dataset.data_root={image_folder}'
        for split in ('train', 'val', 'test')
    ]
    line = _fails(capsys, 'check_pair.py', '--data-config', str(config),
                  '--iters', '2', '--no-timing', '--cfg-options', *data)
    assert '--cfg-options model.teacher_ckpt=None for a random teacher' in (
        line)
    assert check_pair_tool.main([
        '--data-config',
        str(config), '--iters', '2', '--no-timing', '--cfg-options',
        'model.teacher_ckpt=None', *data
    ]) == 0
    out = capsys.readouterr().out
    assert 'no teacher checkpoint, so the teacher is random' in out
    assert 'auto beta: ' in out
