"""Every tool answers bad input with one sentence
(``TOOL: error: ...``, exit status 1, no traceback), before the work.

Tools run in this process (``main(argv)``), on the tiny test configs and
the one-epoch CAT-KD run of :func:`trained_catkd`.
"""
import json
import os
import os.path as osp
from importlib import import_module

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from PIL import Image

from mmcatkd.apis import demo as demo_api
from mmcatkd.cli import demo as demo_tool
from mmcatkd.cli import train as train_tool
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import TEST_CONFIGS, data_root_options
from tests.reliability.helpers import CATKD, STUDENT, unique_experiment

pytestmark = pytest.mark.slow


def _error_line(capsys, tool: str) -> str:
    """The one error sentence ``tool`` printed (asserts its form)."""
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    lines = stderr.strip().splitlines()
    error = [line for line in lines if line.startswith(f'{tool}: error:')]
    assert len(error) == 1, stderr[-2000:]
    return error[0]


def _fails(capsys, tool: str, *argv) -> str:
    with pytest.raises(SystemExit) as info:
        import_module('mmcatkd.cli.' + tool[:-len('.py')]).main(list(argv))
    assert info.value.code not in (0, None)
    return _error_line(capsys, tool)


@pytest.fixture(scope='module')
def student_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('student') / 'student.pth')
    student = MODELS.build(Config.fromfile(STUDENT).model)
    torch.save(dict(state_dict=student.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """(a good 32x32 PNG, a file that is not an image despite its name)."""
    root = tmp_path_factory.mktemp('images')
    good, corrupt = str(root / 'good.png'), str(root / 'corrupt.png')
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(good)
    with open(corrupt, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\nnot really a png')
    return good, corrupt


# -- visualize_cam.py ---------------------------------------------------------


def test_visualize_cam_missing_image(student_ckpt, tmp_path, capsys):
    missing = str(tmp_path / 'no.png')
    line = _fails(capsys, 'visualize_cam.py', STUDENT, student_ckpt, missing,
                  '--out', str(tmp_path / 'cams.png'))
    assert f'image {missing} does not exist' in line


def test_visualize_cam_corrupt_image(student_ckpt, images, tmp_path, capsys):
    line = _fails(capsys, 'visualize_cam.py', STUDENT, student_ckpt, images[1],
                  '--out', str(tmp_path / 'cams.png'))
    assert f'failed to load image: {images[1]}' in line
    assert 'not an image or is corrupt' in line


def test_visualize_cam_topk_larger_than_the_classes(student_ckpt, images,
                                                    tmp_path, capsys):
    line = _fails(capsys, 'visualize_cam.py', STUDENT, student_ckpt, images[0],
                  '--topk', '9', '--out', str(tmp_path / 'c.png'))
    assert '--topk 9 is not between 1 and the 4 classes of the model' in line


def test_visualize_cam_distillation_checkpoint_as_a_plain_model(
        trained_catkd, images, tmp_path, capsys):
    path = osp.join(trained_catkd, 'epoch_1.pth')
    line = _fails(capsys, 'visualize_cam.py', STUDENT, path, images[0],
                  '--out', str(tmp_path / 'cams.png'))
    assert f'{path} is a distillation checkpoint' in line
    assert 'tools/export_student.py' in line


@pytest.mark.parametrize('tool,argv', [
    ('visualize_cam.py', lambda ckpt, img: [STUDENT, ckpt, img]),
    ('linear_probe.py',
     lambda ckpt, img: [STUDENT, ckpt, '--probe-config', STUDENT]),
    ('benchmark.py', lambda ckpt, img: [
        '--config',
        osp.join(TEST_CONFIGS, 'tiny_teacher.py'), '--student-config', STUDENT,
        '--input-size', '32'
    ]),
    ('analyze_attention.py', lambda ckpt, img:
     [STUDENT, '--model', 'a', STUDENT, ckpt, '--model', 'b', STUDENT, ckpt]),
    ('test.py', lambda ckpt, img: [STUDENT, ckpt]),
])
def test_out_is_a_directory_before_the_work(tool, argv, student_ckpt, images,
                                            tmp_path, capsys):
    """--out naming a directory is refused first, not after the run."""
    line = _fails(capsys, tool, *argv(student_ckpt, images[0]), '--out',
                  str(tmp_path))
    assert f'--out {tmp_path} is a directory' in line


# -- options ----------------------------------------------------------------


@pytest.mark.parametrize('tool',
                         ['train.py', 'test.py', 'analyze_attention.py'])
def test_cfg_options_key_without_value(tool, capsys):
    """``--cfg-options KEY``: a usage error naming the override (MMEngine's
    DictAction raised 'not enough values to unpack')."""
    argv = {
        'train.py': [CATKD],
        'test.py': [STUDENT, 'x.pth'],
        'analyze_attention.py':
        [STUDENT, '--model', 'a', STUDENT, 'x', '--model', 'b', STUDENT, 'y']
    }[tool]
    with pytest.raises(SystemExit) as info:
        import_module('mmcatkd.cli.' + tool[:-3]).main(
            argv + ['--cfg-options', 'train_cfg.max_epochs'])
    assert info.value.code == 2
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    assert ('--cfg-options train_cfg.max_epochs: each override is KEY=VALUE'
            in stderr)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks a CPU machine')
def test_amp_without_a_gpu(tmp_path, capsys):
    line = _fails(capsys, 'train.py', CATKD, '--amp', '--work-dir',
                  str(tmp_path))
    assert '--amp needs a GPU' in line and 'leave out --amp' in line


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_misspelt_top_level_key_is_refused(tool, tmp_path, capsys):
    """`trian_cfg = dict(max_iters=2)` was ignored (the default schedule
    ran): refused before the Runner, naming `train_cfg`; nothing written."""
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = ['{CATKD}']\n"
                      'trian_cfg = dict(max_iters=2)\n')
    work_dir = tmp_path / 'work'
    argv = ([str(config)] if tool == 'train.py' else
            [str(config), str(tmp_path / 'x.pth')])
    line = _fails(capsys, tool, *argv, '--work-dir', str(work_dir))
    assert line == (f"{tool}: error: {config}: unknown top-level key "
                    "'trian_cfg' (did you mean 'train_cfg'?), which the "
                    'Runner would ignore: rename it to the key it should be.')
    assert not work_dir.exists()


def test_unrelated_top_level_key_only_warns(image_folder, tmp_path,
                                            capsys):  # noqa: F811
    """A key of another project's code: one warning naming it, the run
    trains."""
    work_dir = tmp_path / 'work'
    train_tool.main([
        CATKD, '--work-dir',
        str(work_dir), '--cfg-options', *data_root_options(image_folder),
        unique_experiment(), 'my_project_setting=3'
    ])
    stderr = capsys.readouterr().err
    assert ("train.py: warning: "
            f"{CATKD}: top-level key "
            "'my_project_setting' is read neither by MMEngine's Runner nor "
            'by mmcatkd') in stderr
    assert (work_dir / 'epoch_1.pth').exists()


# -- data and checkpoints met by training ------------------------------------


def test_resume_of_another_config_has_no_export_hint(trained_catkd,
                                                     image_folder, tmp_path,
                                                     capsys):  # noqa: F811
    """A distillation checkpoint resumed with the student's config
    says to resume from this config's checkpoints (the test tool's export
    hint does not apply)."""
    path = osp.join(trained_catkd, 'epoch_1.pth')
    line = _fails(capsys, 'train.py', STUDENT, '--work-dir',
                  str(tmp_path / 'work'), '--resume', path, '--cfg-options',
                  *data_root_options(image_folder), unique_experiment())
    assert f'the checkpoint {path} does not match the model' in line
    assert 'resume only from a checkpoint this config wrote' in line
    assert 'export_student' not in line


# -- demo.py ----------------------------------------------------------------


def _reused_teacher_dir(tmp_path):
    """A demo work dir whose teacher record matches this run's settings
    (so the teacher is reused) and the demo's arguments."""
    demo = demo_api
    work_dir = str(tmp_path / 'demo')
    argv = ['--work-dir', work_dir, '--quick', '--stages', 'baseline']
    args = demo_tool.parse_args(argv)
    teacher_dir = osp.join(work_dir, 'teacher')
    cfg = demo.load_stage_config(demo.STAGES[0], work_dir, True,
                                 osp.join(teacher_dir, demo.TEACHER_CKPT),
                                 args)
    record = dict(
        settings=demo.teacher_settings(cfg), top1=90.0, train_seconds=1.0)
    os.makedirs(teacher_dir)
    with open(osp.join(teacher_dir, demo.TEACHER_RECORD), 'w') as f:
        json.dump(record, f)
    return teacher_dir, argv


def test_demo_corrupt_reused_teacher_says_retrain(tmp_path, capsys):
    """A reused teacher checkpoint that is corrupt: the sentence names it
    and --retrain-teacher (it was a raw traceback)."""
    teacher_dir, argv = _reused_teacher_dir(tmp_path)
    checkpoint = osp.join(teacher_dir, 'teacher.pth')
    with open(checkpoint, 'wb') as f:
        f.write(b'')
    line = _fails(capsys, 'demo.py', *argv)
    assert f'{checkpoint} is empty (0 bytes)' in line
    assert 'run the demo again with --retrain-teacher' in line


def test_demo_corrupt_teacher_record_says_retrain(tmp_path, capsys):
    teacher_dir, argv = _reused_teacher_dir(tmp_path)
    torch.save({}, osp.join(teacher_dir, 'teacher.pth'))
    record = osp.join(teacher_dir, 'teacher.json')
    with open(record, 'w') as f:
        f.write('{"settings": ')
    line = _fails(capsys, 'demo.py', *argv)
    assert f'{record} (the record of an earlier run' in line
    assert 'run the demo again with --retrain-teacher' in line
