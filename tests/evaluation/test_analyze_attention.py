"""tools/analyze_attention.py on tiny models and the generated image folder."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

from tests.conftest import TEST_CONFIGS, data_root_options
from tools.analyze_attention import main

STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')
TEACHER = osp.join(TEST_CONFIGS, 'tiny_teacher.py')
DISTILL = osp.join(TEST_CONFIGS, 'catkd_tiny.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A CAT-KD checkpoint (student as architecture.*), the same student as a
    plain checkpoint, and a teacher checkpoint."""
    root = tmp_path_factory.mktemp('analyze')
    cfg = Config.fromfile(DISTILL)
    model_cfg = cfg.model.to_dict()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    torch.manual_seed(0)
    distill = MODELS.build(model_cfg)
    paths = dict(
        distill=str(root / 'distill.pth'),
        student=str(root / 'student.pth'),
        teacher=str(root / 'teacher.pth'))
    torch.save(dict(state_dict=distill.state_dict()), paths['distill'])
    torch.save(dict(state_dict=distill.student.state_dict()),
               paths['student'])
    torch.save(dict(state_dict=distill.teacher.state_dict()),
               paths['teacher'])
    return paths


def test_tool_reports_pairs_ensemble_and_affinity(checkpoints, image_folder,
                                                  tmp_path, capsys):
    """The student read from a distillation checkpoint and the same weights
    in a plain checkpoint agree everywhere (top-1 agreement 1, KL 0, CAM
    IoU 1); three models add the ensemble row and the all-model IoU;
    --affinity adds the augmented accuracy; the JSON holds what was
    printed."""
    out = str(tmp_path / 'results.json')
    results = main([
        STUDENT, '--model', 'distilled', DISTILL, checkpoints['distill'],
        '--model', 'plain', STUDENT, checkpoints['student'], '--model',
        'teacher', TEACHER, checkpoints['teacher'], '--affinity', '--out',
        out, '--batch-size', '8', '--cfg-options',
        *data_root_options(image_folder)
    ])
    same = results['pairs']['distilled-plain']
    assert same['top1_agreement'] == 1.0
    assert same['kl'] == pytest.approx(0, abs=1e-6)
    assert same['cam_iou'] == 1.0
    assert results['num_images'] == 24
    assert results['models']['distilled'] == pytest.approx(
        results['models']['plain'])
    assert set(results['pairs']) == {
        'distilled-plain', 'distilled-teacher', 'plain-teacher'
    }
    assert 0 <= results['cam_iou_all'] <= results['pairs'][
        'distilled-teacher']['cam_iou']
    assert results['ensemble']['of'] == ['plain', 'teacher']
    assert 'affinity' in results['models']['teacher']
    with open(out) as file:
        assert json.load(file)['pairs'] == results['pairs']
    assert 'CAM IoU of all 3 models' in capsys.readouterr().out


def test_tool_refuses_a_checkpoint_of_another_model(checkpoints,
                                                    image_folder):
    """A teacher checkpoint given for the student config is named."""
    with pytest.raises(ValueError, match='does not match the model of'):
        main([
            STUDENT, '--model', 'a', STUDENT, checkpoints['teacher'],
            '--model', 'b', STUDENT, checkpoints['student'],
            '--cfg-options', *data_root_options(image_folder)
        ])
