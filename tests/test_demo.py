"""`make demo` (tools/demo.py) and the CAM figure it draws.

The demo itself runs once per session in --quick mode (a few steps per
stage, 40 test images) as a command, as `make demo` runs it (forked from
a pre-imported interpreter, tests/zygote.py; the documentation test runs
`make demo` itself).
"""
import json
import os.path as osp
import re
import subprocess

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from mmcatkd.apis import demo as demo_api
from mmcatkd.visualization import cam_figure, classifier_cams
from tests.zygote import run_command
from .conftest import PROJECT_ROOT, TEST_CONFIGS

STAGE_KEYS = ['teacher', 'baseline', 'kd', 'catkd', 'cat_only']


def run_demo(work_dir: str, *args: str) -> subprocess.CompletedProcess:
    proc = run_command(
        ['tools/demo.py', '--quick', '--work-dir', work_dir, *args],
        cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def demo_runs(tmp_path_factory):
    """A fresh quick demo, then a second one in the same work directory."""
    work_dir = str(tmp_path_factory.mktemp('demo'))
    first = run_demo(work_dir)
    with open(osp.join(work_dir, 'results.json')) as f:
        first_results = json.load(f)
    teacher_ckpt = osp.join(work_dir, 'teacher', 'teacher.pth')
    first_mtime = osp.getmtime(teacher_ckpt)
    second = run_demo(work_dir)
    return dict(
        work_dir=work_dir,
        first=first,
        second=second,
        first_results=first_results,
        first_mtime=first_mtime,
        teacher_ckpt=teacher_ckpt)


def test_results_json_has_every_stage_with_valid_numbers(demo_runs):
    """results.json lists the five stages in order, each with a top-1 in
    [0, 100] on the test split and a positive training time, plus the
    setting (few labels per class, beta) the numbers belong to."""
    results = demo_runs['first_results']
    assert [stage['key'] for stage in results['stages']] == STAGE_KEYS
    for stage in results['stages']:
        assert 0.0 <= stage['top1'] <= 100.0
        assert stage['train_seconds'] > 0
        assert osp.isfile(osp.join(PROJECT_ROOT, stage['config']))
        assert stage['reused'] is False
    setting = results['setting']
    assert setting['quick'] is True
    assert setting['labelled_per_class'] == 10
    assert setting['beta'] > 0
    assert results['total_seconds'] >= sum(stage['train_seconds']
                                           for stage in results['stages'])
    assert results['total_cpu_seconds'] > 0


def test_results_md_table_matches_results_json(demo_runs):
    """results.md (and the terminal) show one table row per stage with the
    same accuracies as results.json, so the two never disagree."""
    with open(osp.join(demo_runs['work_dir'], 'results.md')) as f:
        markdown = f.read()
    with open(osp.join(demo_runs['work_dir'], 'results.json')) as f:
        results = json.load(f)
    rows = [
        line for line in markdown.splitlines()
        if line.startswith('| ') and not line.startswith('| stage')
    ]
    assert len(rows) == len(STAGE_KEYS)
    for row, stage in zip(rows, results['stages']):
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        assert cells[0] == stage['name']
        assert float(cells[2]) == pytest.approx(stage['top1'], abs=0.005)
    assert rows[0] in demo_runs['second'].stdout


def test_cams_png_is_a_readable_figure(demo_runs):
    """cams.png exists and is an image of a useful size: 4 digits x 2 top
    classes in rows, the input and 5 models in columns, plus a colorbar."""
    from PIL import Image
    path = osp.join(demo_runs['work_dir'], 'cams.png')
    assert osp.getsize(path) > 0
    with Image.open(path) as image:
        width, height = image.size
    assert width >= 600 and height >= 800


def test_reported_teacher_accuracy_is_its_checkpoints_on_the_test_split(
        demo_runs):
    """The teacher's top-1 in results.json is what its saved checkpoint
    scores on the quick run's test images, recomputed here from the
    checkpoint and the stage's config."""
    from mmengine.runner import Runner

    from mmcatkd.apis import build_classifier
    from mmcatkd.utils import checkpoint_state_dict
    demo = demo_api
    cfg = demo.load_stage_config(demo.STAGES[0], demo_runs['work_dir'], True,
                                 demo_runs['teacher_ckpt'])
    model = build_classifier(cfg.model.to_dict(), cfg.get('data_preprocessor'))
    model.load_state_dict(checkpoint_state_dict(demo_runs['teacher_ckpt']))
    model.eval()
    loader = Runner.build_dataloader(
        dict(
            cfg.test_dataloader.to_dict(),
            num_workers=0,
            persistent_workers=False))
    correct = total = 0
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            predicted = model(data['inputs'], mode='tensor').argmax(dim=1)
            labels = torch.cat([s.gt_label for s in data['data_samples']])
            correct += int((predicted == labels).sum())
            total += len(labels)
    assert total == demo.QUICK_TEST_IMAGES
    assert demo_runs['first_results']['stages'][0]['top1'] == pytest.approx(
        100.0 * correct / total, abs=0.01)


def test_second_run_reuses_the_teacher_and_says_so(demo_runs):
    """A second run in the same work directory evaluates the saved teacher
    instead of training it again (the checkpoint is untouched), says so, and
    reports the same teacher accuracy; the students are trained again."""
    second = demo_runs['second']
    assert 'Reusing the teacher' in second.stdout
    assert '--retrain-teacher' in second.stdout
    assert osp.getmtime(demo_runs['teacher_ckpt']) == demo_runs['first_mtime']
    with open(osp.join(demo_runs['work_dir'], 'results.json')) as f:
        results = json.load(f)
    teacher, first_teacher = (results['stages'][0],
                              demo_runs['first_results']['stages'][0])
    assert teacher['reused'] is True
    assert teacher['top1'] == first_teacher['top1']
    assert teacher['train_seconds'] == first_teacher['train_seconds']
    assert all(not stage['reused'] for stage in results['stages'][1:])


def test_progress_names_each_stage_of_five(demo_runs):
    """The terminal shows which stage of how many is running."""
    stages = re.findall(r'=== Stage (\d)/5', demo_runs['first'].stdout)
    assert stages == ['1', '2', '3', '4', '5']


def test_a_teacher_trained_with_other_settings_is_not_reused(tmp_path):
    """A saved teacher is reused only if it was trained with the same
    settings: a --quick teacher left in work_dirs/demo must not stand in for
    the full one."""
    demo = demo_api
    full = demo.load_stage_config(demo.STAGES[0], str(tmp_path), False, '')
    quick = demo.load_stage_config(demo.STAGES[0], str(tmp_path), True, '')
    (tmp_path / 'teacher.pth').write_bytes(b'')
    (tmp_path / 'teacher.json').write_text(
        json.dumps(
            dict(
                settings=demo.teacher_settings(quick),
                top1=1.0,
                train_seconds=1.0)))
    assert demo.reusable_teacher(str(tmp_path),
                                 demo.teacher_settings(quick)) is not None
    assert demo.reusable_teacher(str(tmp_path),
                                 demo.teacher_settings(full)) is None


def tiny_classifier(config: str):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(TEST_CONFIGS, config)).model)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('config', ['tiny_student.py', 'tiny_teacher.py'])
def test_drawn_cams_are_the_maps_the_classifier_decides_with(config):
    """For CAMClsHead and GAP + LinearClsHead models alike, the CAMs that
    cam_figure draws average (plus the FC bias) to the model's own logits:
    the picture shows what the prediction is made of (Eq. 2-3)."""
    model = tiny_classifier(config)
    images = np.random.default_rng(0).integers(
        0, 256, (3, 32, 32, 3), dtype=np.uint8)
    scores, cams = classifier_cams(model, images)
    inputs = torch.from_numpy(images).permute(0, 3, 1, 2)
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=inputs), False)['inputs']
        logits = model(batch, mode='tensor')
    rebuilt = cams.mean(dim=(2, 3)) + model.head.fc.bias
    assert cams.shape[:2] == (3, 4) and cams.dim() == 4
    torch.testing.assert_close(rebuilt, logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(scores, logits.softmax(dim=1))
    assert not model.training


def test_cam_figure_grid_and_refusals():
    """cam_figure draws a (digits x top-k) by (input + models) grid, and
    refuses models that disagree on the classes or an impossible top-k."""
    student, teacher = (tiny_classifier('tiny_student.py'),
                        tiny_classifier('tiny_teacher.py'))
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    fig = cam_figure(
        dict(student=student, teacher=teacher),
        images,
        labels=[0, 3],
        class_names=['a', 'b', 'c', 'd'],
        topk=3)
    image_axes = [ax for ax in fig.axes if ax.get_images()]
    # input cell per digit + 2 models x 3 classes per digit
    assert len(image_axes) == 2 * (1 + 2 * 3)
    with pytest.raises(ValueError, match='topk'):
        cam_figure(dict(student=student), images, topk=5)
    with pytest.raises(ValueError, match='shape'):
        cam_figure(dict(student=student), images[..., 0])
    three_classes = MODELS.build(
        Config.fromfile(osp.join(TEST_CONFIGS, 'tiny_student.py')).model
        | dict(head=dict(type='CAMClsHead', num_classes=3, in_channels=16)))
    with pytest.raises(ValueError, match='same classes'):
        cam_figure(dict(student=student, other=three_classes), images)


def test_teacher_cams_are_built_once_then_reused_and_the_saving_counted(
        tmp_path):
    """--teacher-cams: the first call builds the cache, a second finds it
    complete and reuses the recorded build time; the saving is the skipped
    teacher forwards (steps x batch of each CAT stage) at the build's CPU
    rate, net of the build only when this run built it."""
    demo = demo_api
    cfg = Config.fromfile(osp.join(TEST_CONFIGS, 'catkd_digits_tiny.py'))
    torch.manual_seed(0)
    from mmrazor.registry import MODELS as RAZOR_MODELS

    from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
    teacher = RAZOR_MODELS.build(resolve_cfg_path(cfg.model.teacher))
    cfg.model.teacher_ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), cfg.model.teacher_ckpt)
    built = demo.prepare_teacher_cams(cfg, str(tmp_path))
    again = demo.prepare_teacher_cams(cfg, str(tmp_path))
    assert built['views'] == 10 * 162 and not built['reused']
    assert again['reused'] and again['build_cpu_seconds'] == built[
        'build_cpu_seconds']
    stages = [
        Config(
            dict(
                train_cfg=dict(max_iters=n),
                train_dataloader=dict(batch_size=8))) for n in (3, 5)
    ]
    first = demo.teacher_cams_saving(built, stages)
    later = demo.teacher_cams_saving(again, stages)
    per_view = built['build_cpu_seconds'] / built['views']
    assert first['skipped_teacher_forwards'] == 64
    assert first['saved_cpu_seconds'] == pytest.approx(64 * per_view, abs=0.06)
    assert first['net_saved_cpu_seconds'] == pytest.approx(
        64 * per_view - built['build_cpu_seconds'], abs=0.06)
    assert later['net_saved_cpu_seconds'] == later['saved_cpu_seconds']
