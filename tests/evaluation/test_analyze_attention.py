"""tools/analyze_attention.py on tiny models and the generated image folder."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

from mmcatkd.cli.analyze_attention import main
from tests.conftest import TEST_CONFIGS, data_root_options

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
    torch.save(dict(state_dict=distill.student.state_dict()), paths['student'])
    torch.save(dict(state_dict=distill.teacher.state_dict()), paths['teacher'])
    return paths


def test_tool_reports_pairs_ensemble_and_affinity(checkpoints, image_folder,
                                                  tmp_path, capsys):
    """The student read from a distillation checkpoint and the same weights
    in a plain checkpoint agree everywhere (top-1 agreement 1, KL 0, CAM
    IoU 1); three models add the ensemble row and the all-model IoU;
    --affinity adds the augmented accuracy; the JSON holds what was
    printed."""
    out = str(tmp_path / 'results.json')
    # affinity's base views: here the test views themselves, so the base
    # accuracy must be the test accuracy
    aug_config = tmp_path / 'aug.py'
    aug_config.write_text(f"_base_ = ['{STUDENT}']\n"
                          'base_pipeline = {{_base_.pipeline}}\n')
    results = main([
        STUDENT, '--model', 'distilled', DISTILL, checkpoints['distill'],
        '--model', 'plain', STUDENT, checkpoints['student'], '--model',
        'teacher', TEACHER, checkpoints['teacher'], '--affinity', '--out', out,
        '--batch-size', '8', '--aug-config',
        str(aug_config), '--cfg-options', *data_root_options(image_folder)
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
    for row in results['models'].values():
        assert row['accuracy_base'] == pytest.approx(row['accuracy'])
        assert row['affinity'] == pytest.approx(row['accuracy_augmented'] /
                                                row['accuracy'])
    with open(out) as file:
        assert json.load(file)['pairs'] == results['pairs']
    assert 'CAM IoU of all 3 models' in capsys.readouterr().out


def test_tool_refuses_a_checkpoint_of_another_model(checkpoints, image_folder,
                                                    capsys):
    """A teacher checkpoint given for the student config is named, in one
    sentence."""
    with pytest.raises(SystemExit):
        main([
            STUDENT, '--model', 'a', STUDENT, checkpoints['teacher'],
            '--model', 'b', STUDENT, checkpoints['student'], '--cfg-options',
            *data_root_options(image_folder)
        ])
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    assert f"analyze_attention.py: error: {checkpoints['teacher']} does not " \
        'match the model of' in stderr


def test_two_different_models_match_measurements_by_hand(
        checkpoints, image_folder):
    """For two different models (the CAMClsHead student and the GAP +
    LinearClsHead teacher) accuracy, top-1 agreement, KL(teacher||student)
    and the CAM IoU equal what is computed here from their weights: logits,
    class-summed CAMs from the last map and fc weight, upsampled, min-max
    normalised and thresholded at 0.4, intersection over union pooled over
    the images."""
    from mmengine.runner import Runner

    from mmcatkd.apis import load_classifier
    from tests.conftest import cams_by_hand
    results = main([
        STUDENT, '--model', 's', STUDENT, checkpoints['student'], '--model',
        't', TEACHER, checkpoints['teacher'], '--cfg-options',
        *data_root_options(image_folder)
    ])
    models = dict(
        s=load_classifier(STUDENT, checkpoints['student']),
        t=load_classifier(TEACHER, checkpoints['teacher']))
    cfg = Config.fromfile(STUDENT)
    cfg.test_dataloader.dataset.data_root = image_folder
    loader = Runner.build_dataloader(
        dict(
            cfg.test_dataloader.to_dict(),
            num_workers=0,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=False)))
    logits = dict(s=[], t=[])
    masks = dict(s=[], t=[])
    labels = []
    with torch.no_grad():
        for batch in loader:
            for name, model in models.items():
                inputs = model.data_preprocessor(batch, False)['inputs']
                feat = model.backbone(inputs)[-1]
                logits[name].append(model.head.fc(feat.mean(dim=(2, 3))))
                cam = cams_by_hand(model, inputs).sum(dim=1, keepdim=True)
                cam = torch.nn.functional.interpolate(
                    cam,
                    size=inputs.shape[-2:],
                    mode='bilinear',
                    align_corners=False)[:, 0]
                low = cam.amin(dim=(1, 2), keepdim=True)
                high = cam.amax(dim=(1, 2), keepdim=True)
                masks[name].append((cam - low) / (high - low + 1e-8) > 0.4)
            labels += [int(s.gt_label) for s in batch['data_samples']]
    logits = {name: torch.cat(value) for name, value in logits.items()}
    masks = {name: torch.cat(value) for name, value in masks.items()}
    labels = torch.tensor(labels)
    pair = results['pairs']['s-t']
    for name in models:
        assert results['models'][name]['accuracy'] == pytest.approx(
            float((logits[name].argmax(1) == labels).float().mean()))
    agreement = float(
        (logits['s'].argmax(1) == logits['t'].argmax(1)).float().mean())
    assert agreement < 1  # two different models
    assert pair['top1_agreement'] == pytest.approx(agreement)
    log_p_t = logits['t'].log_softmax(1)
    kl = float(
        (log_p_t.exp() * (log_p_t - logits['s'].log_softmax(1))).sum(1).mean())
    assert pair['kl'] == pytest.approx(kl, rel=1e-4)
    log_p_s = logits['s'].log_softmax(1)
    kl_s_t = float((log_p_s.exp() * (log_p_s - log_p_t)).sum(1).mean())
    assert pair['kl_authors'] == pytest.approx(10 * kl_s_t, rel=1e-4)
    iou = float(
        (masks['s'] & masks['t']).sum() / (masks['s'] | masks['t']).sum())
    assert 0 < iou < 1
    assert pair['cam_iou'] == pytest.approx(iou, rel=1e-6)
