"""Many malformed inputs, each refused with a clear
message or handled, and a work directory's checkpoints never harmed.

- configs with a wrong type or value for each CAT-KD option, built in this
  process (the model is what they break);
- data, checkpoint and config faults met by tools/train.py (in this
  process) continuing a one-epoch run: its checkpoints are hashed before and
  after each, and a fault that can be handled must let epoch 2 train.
"""
import copy
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import DATASETS, METRICS, MODELS
from mmrazor.registry import MODELS as RAZOR_MODELS
from PIL import Image

from mmcatkd.cli import test as cli_test
from mmcatkd.utils.checkpoint import safe_torch_load
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import data_root_options, write_image_folder
from tests.reliability.helpers import (CATKD, STUDENT, fingerprint,
                                       train_in_process, unique_experiment)

TEACHER = osp.join(osp.dirname(STUDENT), 'tiny_teacher.py')

# (option path in catkd_tiny's model, bad value, error, message)
MODEL_FAULTS = [
    ('distiller.cat_loss.resolution', 0, ValueError,
     'CAM resolution must be an integer >= 1, got 0'),
    ('distiller.cat_loss.resolution', '2', ValueError,
     "CAM resolution must be an integer >= 1, got '2'"),
    ('distiller.cat_loss.resolution', 2.5, ValueError,
     'CAM resolution must be an integer >= 1, got 2.5'),
    ('distiller.cat_loss.resolution', None, ValueError,
     'CAM resolution must be an integer >= 1, got None'),
    ('distiller.cat_loss.resolution', True, ValueError,
     'CAM resolution must be an integer >= 1, got True'),
    ('distiller.cat_loss.loss_weight', '1.0', ValueError,
     "loss_weight must be a finite number >= 0 or 'auto', got '1.0'"),
    ('distiller.cat_loss.loss_weight', -1.0, ValueError,
     "loss_weight must be a finite number >= 0 or 'auto', got -1.0"),
    ('distiller.cat_loss.loss_weight', float('nan'), ValueError,
     "loss_weight must be a finite number >= 0 or 'auto', got nan"),
    ('distiller.cat_loss.normalize', 'yes', ValueError,
     "normalize must be True or False, got 'yes'"),
    ('distiller.cat_loss.binarize', 1, ValueError,
     'binarize must be True or False, got 1'),
    ('distiller.cat_loss.num_selected', 0, ValueError,
     'num_selected must be None or an integer >= 1, got 0'),
    ('distiller.cat_loss.num_selected', '3', ValueError,
     "num_selected must be None or an integer >= 1, got '3'"),
    ('distiller.cat_loss.num_selected', True, ValueError,
     'num_selected must be None or an integer >= 1, got True'),
    ('distiller.cat_loss.selection', 'middle', ValueError,
     "selection must be 'top' or 'bottom', got 'middle'"),
    ('distiller.cat_loss.resolutoin', 2, TypeError,
     "unexpected keyword argument 'resolutoin'"),
    ('distiller.cat_loss.type', 'CATLos', KeyError,
     'CATLos is not in the mmrazor::model registry'),
    ('distiller.cat_loss', [2], ValueError,
     'cat_loss must be a dict of CATLoss options, got [2]'),
    ('distiller.pooled_cams', 'no', ValueError,
     "pooled_cams must be True or False, got 'no'"),
    ('distiller.cam_source', 'backbone.layer9', ValueError,
     'ImageClassifier has no submodule "backbone.layer9"'),
    ('distiller.cam_head', 'backbone', TypeError,
     'ResNet cannot produce class activation maps'),
    ('distiller.student_recorders',
     dict(cam=dict(type='ModuleOutputs', source='backbone')), ValueError,
     '"cam" is reserved by CAMDistiller'),
    ('teacher_ckpt', 123, ValueError,
     'teacher_ckpt must be a checkpoint path or None, got 123'),
    ('teacher_ckpt', '/no/such/teacher.pth', FileNotFoundError,
     'teacher_ckpt /no/such/teacher.pth does not exist: train the teacher'),
    ('teacher_ckpt_strict', 'False', ValueError,
     "teacher_ckpt_strict must be True or False, got 'False'"),
    ('calculate_student_loss', 'no', ValueError,
     "calculate_student_loss must be True or False, got 'no'"),
    ('teacher_trainable', True, ValueError,
     'teacher_trainable=True is not supported'),
    ('student_trainable', False, ValueError,
     'student_trainable=False is not supported'),
    ('teacher_norm_eval', False, ValueError,
     'teacher_norm_eval=False is not supported'),
    ('teacher', dict(cfg_path='/no/such/teacher.py'), FileNotFoundError,
     'model config /no/such/teacher.py does not exist'),
    ('teacher', dict(cfg_path=TEACHER, head=dict(num_classes=5)), ValueError,
     'the student predicts 4 classes and the teacher 5'),
]


def _with_option(path: str, value):
    """catkd_tiny's model config with ``path`` (dotted) set to ``value``."""
    model = copy.deepcopy(Config.fromfile(CATKD).model.to_dict())
    *parents, leaf = path.split('.')
    node = model
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return model


@pytest.mark.parametrize(
    'path,value,error,message',
    MODEL_FAULTS,
    ids=[f'{path}={value!r}' for path, value, *_ in MODEL_FAULTS])
def test_bad_option_fails_when_the_model_is_built(path, value, error, message):
    """Each bad option stops the build with its own sentence, before any
    data or checkpoint is touched."""
    with pytest.raises(error, match=re.escape(message)):
        RAZOR_MODELS.build(_with_option(path, value))


@pytest.mark.parametrize(
    'registry,cfg,message', [
        (RAZOR_MODELS, dict(type='RandomManifoldLoss', num_samples=True),
         'num_samples must be an integer >= 1, got True'),
        (METRICS, dict(type='ExpectedCalibrationError', num_bins=True),
         'num_bins must be an integer >= 1, got True'),
        (DATASETS, dict(type='SklearnDigits', num_per_class=False),
         'num_per_class must be None or an integer >= 1, got False'),
    ],
    ids=['num_samples', 'num_bins', 'num_per_class'])
def test_boolean_is_not_an_integer(registry, cfg, message):
    """True/False (int subclasses) are refused where an
    integer count is due, not taken as 1/0."""
    with pytest.raises(ValueError, match=re.escape(message)):
        registry.build(cfg)


def test_teacher_checkpoint_of_another_architecture(tmp_path):
    """The student's weights as teacher_ckpt: every shape mismatch is
    listed and the converter is pointed to."""
    path = str(tmp_path / 'student.pth')
    student = MODELS.build(Config.fromfile(STUDENT).model)
    torch.save(dict(state_dict=student.state_dict()), path)
    with pytest.raises(
            ValueError,
            match=re.escape(f'teacher_ckpt {path} does not match '
                            'the teacher model')) as info:
        RAZOR_MODELS.build(_with_option('teacher_ckpt', path))
    assert 'shape mismatches' in str(info.value)
    assert 'tools/convert_teacher.py' in str(info.value)


# ---------------------------------------------------------------------------
# Faults met by tools/train.py continuing a run: checkpoints stay untouched.


@pytest.fixture
def guarded_run(catkd_run):
    """The one-epoch work dir; after the test, its epoch_1.pth is byte for
    byte what it was and still loads."""
    before = fingerprint(catkd_run)['epoch_1.pth']
    yield catkd_run
    assert fingerprint(catkd_run)['epoch_1.pth'] == before
    assert safe_torch_load(osp.join(catkd_run,
                                    'epoch_1.pth'))['meta']['epoch'] == 1


def _continue(work_dir, data_root, *options, resume='auto'):
    train_in_process(
        CATKD,
        work_dir,
        data_root,
        'train_cfg.max_epochs=2',
        *options,
        resume=resume)


def _refused(capsys, work_dir, data_root, *options, resume='auto'):
    """The one-sentence error tools/train.py printed for this fault."""
    with pytest.raises(SystemExit):
        _continue(work_dir, data_root, *options, resume=resume)
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    return stderr.strip().splitlines()[-2]


@pytest.mark.parametrize('option,message', [
    ('model.distiller.cat_loss.resolution=0',
     'CAM resolution must be an integer >= 1'),
    ('model.distiller.cat_loss.resolution=5',
     'training cannot start: the loss fails on the first training sample '
     '(input 3x32x32 after the pipeline): CAM resolution 5 is larger'),
    ('model.distiller.cat_loss.num_selected=10',
     'training cannot start: the loss fails on the first training sample '
     '(input 3x32x32 after the pipeline): num_selected=10 exceeds the 4 '
     'classes'),
    ('model.teacher_ckpt=/no/such/teacher.pth',
     'teacher_ckpt /no/such/teacher.pth does not exist'),
])
def test_config_fault_through_train_tool(option, message, guarded_run,
                                         image_folder, capsys):  # noqa: F811
    """Config faults met by tools/train.py --resume: one sentence, nothing
    written (also those only real data reveal)."""
    assert message in _refused(capsys, guarded_run, image_folder, option)


def test_resume_from_a_checkpoint_of_another_architecture(
        guarded_run, image_folder, tmp_path, capsys):  # noqa: F811
    """A plain classifier's checkpoint given to --resume of a CAT-KD run is
    refused (MMEngine would load nothing, warn, and fail later in the
    optimizer state with an unrelated message)."""
    path = str(tmp_path / 'student.pth')
    student = MODELS.build(Config.fromfile(STUDENT).model)
    torch.save(dict(state_dict=student.state_dict()), path)
    line = _refused(capsys, guarded_run, image_folder, resume=path)
    assert f'the checkpoint {path} does not match the model' in line
    assert '124 missing keys' in line


def test_last_checkpoint_naming_a_missing_file(guarded_run, image_folder,
                                               capsys):  # noqa: F811
    """A last_checkpoint whose file was deleted: the path is named."""
    missing = osp.join(guarded_run, 'epoch_7.pth')
    with open(osp.join(guarded_run, 'last_checkpoint'), 'w') as f:
        f.write(missing)
    assert f'{missing} can not be found' in _refused(capsys, guarded_run,
                                                     image_folder)


def test_distillation_checkpoint_tested_with_the_student_config(
        trained_catkd, image_folder, tmp_path, capsys):  # noqa: F811
    """tools/test.py refuses to evaluate a CAT-KD checkpoint with the
    student's config (MMEngine would test a random student) and says how to
    get the student out of it."""
    with pytest.raises(SystemExit):
        cli_test.main([
            STUDENT,
            osp.join(trained_catkd, 'epoch_1.pth'), '--work-dir',
            str(tmp_path), '--cfg-options', *data_root_options(image_folder),
            unique_experiment()
        ])
    line = capsys.readouterr().err.strip().splitlines()[-2]
    assert 'does not match the model of this config' in line
    assert 'tools/export_student.py' in line


def _copy_images(image_folder, destination):  # noqa: F811
    shutil.copytree(image_folder, destination)
    return destination


def test_empty_dataset_folder(guarded_run, tmp_path, capsys):
    """A data root without images: one sentence naming the folder and the
    layout (it was MMPretrain's RuntimeError with a traceback)."""
    empty = str(tmp_path / 'empty')
    os.makedirs(osp.join(empty, 'class0'))
    line = _refused(capsys, guarded_run, empty)
    assert f'the image folder {empty} holds no images (' in line
    assert f'put them in {empty}/<class>/' in line


def test_missing_data_root(guarded_run, tmp_path, capsys):
    """A data root that does not exist: one sentence naming it."""
    missing = str(tmp_path / 'not_there')
    assert missing in _refused(capsys, guarded_run, missing)


def test_missing_cifar_data(guarded_run, tmp_path, capsys):
    """A CIFAR-100 data root without the data: the data check
    (mmcatkd.datasets.check_datasets) says where it goes and in what
    layout, before the Runner is built."""
    missing = str(tmp_path / 'cifar')
    line = _refused(capsys, guarded_run, missing,
                    'train_dataloader.dataset.type=CIFAR100',
                    'val_dataloader.dataset.type=CIFAR100')
    assert f'CIFAR-100 is not in {missing}: download' in line


@pytest.mark.parametrize('corrupt,stage', [
    ('class0/0.png', 'training cannot start: the first training sample '
     'cannot be loaded: failed to load image'),
    ('class3/5.png', 'failed to load image'),
])
def test_corrupt_image_file(corrupt, stage, guarded_run, image_folder,
                            tmp_path, capsys):  # noqa: F811
    """An image that does not decode, the first sample (met by the
    preflight check) or one met in the middle of the epoch: one sentence
    naming the file and what to do (both used to be raw
    tracebacks), and no epoch_2.pth is written."""
    data = _copy_images(image_folder, str(tmp_path / 'data'))
    with open(osp.join(data, corrupt), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\nnot really a png')
    line = _refused(capsys, guarded_run, data)
    assert f'{stage}: {osp.join(data, corrupt)}' in line
    assert 'not an image or is corrupt: replace or remove it' in line


def test_label_outside_the_classes(guarded_run, image_folder, tmp_path,
                                   capsys):  # noqa: F811
    """An annotation file with a label the 4-class model cannot predict:
    refused before the first step, naming the line and the file (it used
    to fail mid-run naming no sample)."""
    data = _copy_images(image_folder, str(tmp_path / 'data'))
    lines = [
        f'class{label}/{index}.png {label}' for label in range(4)
        for index in range(6)
    ]
    lines[13] = 'class2/1.png 7'
    with open(osp.join(data, 'train.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    line = _refused(capsys, guarded_run, data,
                    'train_dataloader.dataset.ann_file=train.txt')
    assert (f'sample 13 (line 14 of {osp.join(data, "train.txt")}, '
            f'{osp.join(data, "class2/1.png")}) has label 7, outside the 4 '
            'classes of the model' in line)


def test_unlabelled_data_with_the_student_loss(guarded_run, image_folder,
                                               capsys):  # noqa: F811
    """Images without labels and calculate_student_loss=True: says to
    distill without labels (it reported a missing gt_label attribute)."""
    line = _refused(capsys, guarded_run, image_folder,
                    'train_dataloader.dataset.with_label=False')
    assert 'the training samples have no labels (gt_label)' in line
    assert 'model.calculate_student_loss=False' in line


def test_images_of_other_modes_and_sizes_are_handled(guarded_run, tmp_path):
    """Grayscale, RGBA and odd-sized images, and a stray text file among
    them: loaded as 3-channel images resized by the pipeline (the text file
    is skipped by extension), and epoch 2 trains to finite weights."""
    data = write_image_folder(str(tmp_path / 'data'))
    rng = np.random.default_rng(0)
    for label in range(4):
        folder = osp.join(data, f'class{label}')
        Image.fromarray(rng.integers(0, 255, (20, 45), np.uint8),
                        'L').save(osp.join(folder, 'gray.png'))
        Image.fromarray(rng.integers(0, 255, (33, 40, 4), np.uint8),
                        'RGBA').save(osp.join(folder, 'rgba.png'))
        with open(osp.join(folder, 'notes.txt'), 'w') as f:
            f.write('not an image')
    _continue(guarded_run, data)
    checkpoint = safe_torch_load(osp.join(guarded_run, 'epoch_2.pth'))
    assert checkpoint['meta']['iter'] == 6 + 8
    assert all(
        torch.isfinite(value).all()
        for value in checkpoint['state_dict'].values()
        if value.is_floating_point())
