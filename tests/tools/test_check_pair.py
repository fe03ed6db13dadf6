"""tools/check_pair.py and mmcatkd.apis.pair_check: a pair whose CAMs are
exact passes with the measured difference and its legal CAM resolutions; a
head whose CAMs are not exact (stacked head, norm after pooling, pooling
other than GAP, timm ConvNeXt and ViT) or differing class counts are
refused with the reason; ``--data-config`` prints the beta that the
automatic window of a run then chooses."""
import math
import os.path as osp
import re

import pytest
import torch

from mmcatkd.apis.loading import build_classifier
from mmcatkd.apis.pair_check import inspect_cams, legal_resolutions
from mmcatkd.cli import check_pair as check_pair_tool
from mmcatkd.cli import train as train_tool
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS

TEACHER = osp.join(TEST_CONFIGS, 'tiny_teacher.py')  # GAP + LinearClsHead
STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')  # CAMClsHead


def _config(tmp_path, name, text):
    path = str(tmp_path / name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def _tiny(head=None, neck='GlobalAveragePooling', num_classes=4):
    cfg = dict(
        type='ImageClassifier',
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, ),
            stem_channels=8,
            base_channels=8),
        neck=dict(type=neck) if neck else None,
        head=head
        or dict(type='LinearClsHead', num_classes=num_classes, in_channels=16))
    return build_classifier(cfg)


def test_exact_pair_passes_with_its_measured_difference(capsys):
    """GAP + LinearClsHead teacher and CAMClsHead student: exit 0, both
    exact with a printed difference <= 1e-5, 4x4 CAMs at the configs' 32 px
    (two stride-2 steps... of a 2-stage ResNet: 32/8), r up to 4."""
    assert check_pair_tool.main([TEACHER, STUDENT, '--no-timing']) == 0
    out = capsys.readouterr().out
    differences = [float(d) for d in re.findall(r'yes \(([^)]+)\)', out)]
    assert len(differences) == 2 and max(differences) <= 1e-5
    assert 'input 32x32' in out and '1..4, equal bins at 1, 2, 4' in out


def test_stacked_head_pair_is_refused(tmp_path, capsys):
    """A teacher with MMPretrain's StackedLinearClsHead: exit 1 and one
    sentence naming the stacked MLP head."""
    stacked = _config(
        tmp_path, 'stacked.py', f'_base_ = [{TEACHER!r}]\n'
        "model = dict(head=dict(_delete_=True, type='StackedLinearClsHead', "
        'num_classes=4, in_channels=32, mid_channels=[16]))\n')
    assert check_pair_tool.main([stacked, STUDENT, '--no-timing']) == 1
    out = capsys.readouterr().out
    assert ('This pair cannot do CAT-KD: the teacher (ResNet + '
            'StackedLinearClsHead) has no exact CAMs: a stacked MLP head'
            in out)


def test_class_count_mismatch_is_refused(tmp_path, capsys):
    other = _config(
        tmp_path, 'ten.py', f'_base_ = [{STUDENT!r}]\n'
        'model = dict(head=dict(num_classes=10))\n')
    assert check_pair_tool.main([TEACHER, other, '--no-timing']) == 1
    assert 'predicts 4 classes and the student 10' in capsys.readouterr().out


def test_difference_is_measured_not_assumed():
    """The same backbone and head after generalised-mean pooling (p=3), not
    average pooling, misses GAP(CAM) + b by far more than 1e-5 and is
    flagged; after GAP it is exact (the same weights)."""
    torch.manual_seed(0)
    gem = _tiny(neck='GeneralizedMeanPooling')
    report = inspect_cams(gem, 32)
    assert not report.exact and report.difference > 1e-3
    assert 'not average pooling' in report.reason
    gap = _tiny()
    gap.load_state_dict(gem.state_dict(), strict=False)
    assert inspect_cams(gap, 32).difference <= 1e-12


def test_norm_after_pooling_says_which_switch():
    """ConvNeXt pools before its final norm by default: refused, naming
    gap_before_final_norm; with it False and a GAP neck, exact."""

    def convnext(gap_first):
        return build_classifier(
            dict(
                type='ImageClassifier',
                backbone=dict(
                    type='ConvNeXt',
                    arch=dict(depths=[1, 1], channels=[8, 16]),
                    out_indices=(1, ),
                    gap_before_final_norm=gap_first),
                neck=None if gap_first else dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=3,
                          in_channels=16)))

    assert 'gap_before_final_norm' in inspect_cams(convnext(True), 32).reason
    assert inspect_cams(convnext(False), 32).exact


def test_legal_resolutions():
    """r up to the smallest side; equal bins where r divides every side."""
    assert legal_resolutions((8, 8), (4, 4)) == (4, [1, 2, 4])
    assert legal_resolutions((7, 7), (14, 14)) == (7, [1, 7])


@pytest.mark.slow
def test_window_prints_the_beta_a_run_chooses(tmp_path, capsys):
    """check_pair --data-config on the demo's CAT-KD config prints the beta
    that tools/train.py with auto_iters=3 then fixes (same teacher weights,
    seed and data), and beta * CAT equals the target."""
    torch.manual_seed(0)
    teacher = build_classifier(
        dict(
            type='ImageClassifier',
            backbone=dict(type='CIFARResNet', arch='resnet20'),
            neck=None,
            head=dict(type='CAMClsHead', num_classes=10, in_channels=64)))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    config = osp.join(PROJECT_ROOT, 'configs', 'demo',
                      'catkd_resnet56_resnet20_1xb16_digits.py')
    small_teacher = _config(
        tmp_path, 'catkd.py', f'_base_ = [{config!r}]\n'
        "model = dict(teacher=dict(backbone=dict(arch='resnet20')))\n")
    assert check_pair_tool.main([
        '--data-config', small_teacher, '--teacher-ckpt', ckpt, '--iters', '3',
        '--no-timing'
    ]) == 0
    out = capsys.readouterr().out
    printed = float(re.search(r'auto beta: ([0-9.e+-]+)', out).group(1))
    measured = float(re.search(r'window: ([0-9.e+-]+)', out).group(1))
    assert printed * measured == pytest.approx(math.sqrt(50), rel=1e-3)

    work_dir = str(tmp_path / 'run')
    train_tool.main([
        small_teacher, '--work-dir', work_dir, '--cfg-options',
        f'model.teacher_ckpt={ckpt}',
        'model.distiller.cat_loss.loss_weight=auto',
        'model.distiller.cat_loss.auto_iters=3', 'train_cfg.max_iters=3',
        'train_cfg.val_interval=3', 'experiment_name=check_pair_window'
    ])
    from mmcatkd.utils.checkpoint import safe_torch_load
    state = safe_torch_load(osp.join(work_dir, 'iter_3.pth'))['state_dict']
    chosen = state['distiller.distill_losses.loss_cat.auto_beta.beta'].item()
    assert printed == pytest.approx(chosen, rel=1e-3)  # 4 printed digits


def test_timm_resnet_and_regnet_teachers_are_accepted(capsys):
    """timm:// on either side (random weights, nothing downloaded): a timm
    ResNet teacher and a RegNetY student, both exact at 64 px (2x2 CAMs)."""
    assert check_pair_tool.main([
        'timm://resnet10t.c3_in1k', 'timm://regnety_002', '--input-size', '64',
        '--no-timing'
    ]) == 0
    out = capsys.readouterr().out
    assert 'timm resnet10t.c3_in1k last output (512x2x2) -> head.fc' in out
    assert 'timm regnety_002 last output (368x2x2) -> head.fc' in out
    differences = [float(d) for d in re.findall(r'yes \(([^)]+)\)', out)]
    assert len(differences) == 2 and max(differences) <= 1e-5


@pytest.mark.parametrize('teacher, reason', [
    ('timm://test_convnext', 'a head norm (head.norm, after pooling) is not '
     'linear in the pooled features'),
    ('timm://test_vit', 'a class-token head classifies the class token, '
     'not pooled patch features'),
])
def test_timm_convnext_and_vit_teachers_are_refused_with_why(
        teacher, reason, capsys):
    assert check_pair_tool.main(
        [teacher, 'timm://test_resnet', '--input-size', '160',
         '--no-timing']) == 1
    out = capsys.readouterr().out
    name = teacher[len('timm://'):]
    assert (f'This pair cannot do CAT-KD: the teacher (timm {name} + '
            f'TimmClsHead) has no exact CAMs: {reason}.') in out
