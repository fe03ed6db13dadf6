"""tools/visualize_cam.py: the top-k CAM figure of a classifier or a
distillation checkpoint (CAT-KD Figs. 2, 5, 6)."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmrazor.registry import MODELS as RAZOR_MODELS

from mmcatkd.cli import visualize_cam as visualize_cam_tool
from tests.conftest import TEST_CONFIGS, image_folder  # noqa

main = visualize_cam_tool.main
visualize_cam = visualize_cam_tool.visualize_cam

STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')
CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny.py')
CLASSES = ['cat', 'dog', 'fox', 'owl']


def _save(model, path):
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=CLASSES))), path)
    return path


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A plain-classifier and a CAT-KD checkpoint of the tiny configs."""
    root = tmp_path_factory.mktemp('ckpts')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        student = PRETRAIN_MODELS.build(
            Config.fromfile(STUDENT).model.to_dict())
    with DefaultScope.overwrite_default_scope('mmrazor'):
        algorithm = RAZOR_MODELS.build(Config.fromfile(CATKD).model.to_dict())
    return (_save(student, str(root / 'student.pth')),
            _save(algorithm, str(root / 'catkd.pth')))


def _cam_cells(fig):
    """(rows, cols) of the image grid and the titles of its CAM cells."""
    grid = [
        ax for ax in fig.axes if ax.get_subplotspec() is not None and ax.images
    ]
    rows, cols = grid[0].get_subplotspec().get_geometry()[:2]
    titles = [
        ax.get_title() for ax in grid if ax.get_subplotspec().colspan.start > 0
    ]
    return rows, cols, len(grid), titles


def test_grid_is_images_by_topk_with_class_names(checkpoints, image_folder,
                                                 tmp_path):  # noqa: F811
    """One row per image and 1 + k columns (input, then the top-k CAMs),
    every CAM titled with a class name and a score; the PNG is written."""
    images = sorted(glob.glob(osp.join(image_folder, '*', '0.png')))[:3]
    out = str(tmp_path / 'cams.png')
    fig = visualize_cam(STUDENT, checkpoints[0], images, topk=2, out=out)
    rows, cols, cells, titles = _cam_cells(fig)
    assert (rows, cols, cells) == (3, 3, 9)
    assert len(titles) == 3 * 2
    for title in titles:
        name, score = title.rsplit(' ', 1)
        assert name.strip("'") in CLASSES and 0 <= float(score) <= 1
    assert osp.getsize(out) > 0


def test_distillation_checkpoint_adds_teacher_rows_for_the_same_classes(
        checkpoints, image_folder, tmp_path):  # noqa: F811
    """A CAT-KD config and checkpoint draw teacher and student rows (2 per
    image) for the same classes, the teacher's top-k; --binarize draws 0/1
    maps (CATLoss's binarize_cams)."""
    images = sorted(glob.glob(osp.join(image_folder, '*', '1.png')))[:2]
    fig = visualize_cam(CATKD, checkpoints[1], images, topk=3, binarize=True)
    rows, cols, cells, titles = _cam_cells(fig)
    assert (rows, cols, cells) == (4, 4, 16)
    for image in range(2):
        teacher = titles[6 * image:6 * image + 3]
        student = titles[6 * image + 3:6 * image + 6]
        assert [t.split()[0]
                for t in teacher] == [s.split()[0] for s in student]
    overlays = [
        ax.images[-1].get_array() for ax in fig.axes
        if ax.get_subplotspec() is not None
        and ax.get_subplotspec().colspan.start > 0
    ]
    values = np.unique(np.concatenate([np.ravel(o) for o in overlays]))
    assert set(values.tolist()) <= {0.0, 1.0}


def test_command_line_and_refusals(checkpoints, image_folder, tmp_path,
                                   capsys):  # noqa: F811
    """The command line writes the PNG; a missing image, a k above the
    class count and a student checkpoint used as a distillation one fail
    with a sentence."""
    image = sorted(glob.glob(osp.join(image_folder, '*', '2.png')))[0]
    out = str(tmp_path / 'cli.png')
    main([STUDENT, checkpoints[0], image, '--topk', '4', '--out', out])
    assert osp.getsize(out) > 0 and 'wrote' in capsys.readouterr().out
    with pytest.raises(FileNotFoundError):
        visualize_cam(STUDENT, checkpoints[0], [str(tmp_path / 'none.png')])
    with pytest.raises(ValueError, match='topk'):
        visualize_cam(STUDENT, checkpoints[0], [image], topk=5)
    with pytest.raises(ValueError, match='architecture'):
        visualize_cam(CATKD, checkpoints[0], [image])


def test_gap_linear_head_classifiers_are_drawn_too():
    """A model-zoo layout (GAP neck + LinearClsHead) draws like CAMClsHead,
    and its CAM scores are its own softmax (the maps are the classifier's:
    GAP(CAM) + b gives the logits)."""
    from mmcatkd.visualization import topk_cam_figure
    cfg = Config.fromfile(STUDENT).model.to_dict()
    cfg['neck'] = dict(type='GlobalAveragePooling')
    cfg['head'] = dict(type='LinearClsHead', num_classes=4, in_channels=16)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = PRETRAIN_MODELS.build(cfg)
    model.init_weights()
    image = np.random.default_rng(0).integers(
        0, 255, (32, 32, 3), dtype=np.uint8)
    fig = topk_cam_figure(model, [image], CLASSES, topk=4)
    rows, cols, cells, titles = _cam_cells(fig)
    assert (rows, cols, cells) == (1, 5, 5)
    model.eval()  # as the figure runs it
    with torch.no_grad():
        batch = model.data_preprocessor(
            dict(inputs=torch.from_numpy(image).permute(2, 0, 1)[None]), False)
        scores = model(batch['inputs'], mode='tensor').softmax(1)[0]
    top = scores.topk(4)
    assert titles == [
        f"'{CLASSES[int(k)]}' {float(s):.2f}"
        for s, k in zip(top.values, top.indices)
    ]
