"""`dict(cfg_path=..., **overrides)` for a teacher or a student: the
overrides are merged into the named config whether it is a local file or a
package's (`mmpretrain::`, `mmcatkd::`)."""
import os.path as osp

import pytest
import torch
from mmrazor.registry import MODELS

from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import DIGITS_STUDENT_CONFIG, PROJECT_ROOT

THREE_CLASSES = dict(head=dict(num_classes=3))
RESNET18_IN1K = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'


def _catkd(student: dict, teacher: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            _scope_='mmrazor',
            type='CATDistill',
            architecture=student,
            teacher=teacher,
            teacher_ckpt=None,
            distiller=dict(type='CAMDistiller')))


def _classes(classifier: torch.nn.Module) -> tuple:
    return classifier.head.num_classes, classifier.head.fc.out_features


def test_package_cfg_path_merges_overrides_as_a_local_file(mim_folder):
    """`mmcatkd::` with head and backbone overrides resolves to the same
    model config as the file's own path with them, and both a student and
    a teacher given that way are built with 3 classes (the file says 10)."""
    overrides = dict(THREE_CLASSES, backbone=dict(arch='resnet8'))
    packaged = resolve_cfg_path(
        dict(cfg_path=f'mmcatkd::{DIGITS_STUDENT_CONFIG}', **overrides))
    local = resolve_cfg_path(
        dict(
            cfg_path=osp.join(PROJECT_ROOT, 'configs', DIGITS_STUDENT_CONFIG),
            **overrides))
    assert packaged == local
    assert packaged['head']['num_classes'] == 3
    assert packaged['backbone'] == dict(type='CIFARResNet', arch='resnet8')

    part = dict(cfg_path=f'mmcatkd::{DIGITS_STUDENT_CONFIG}', **THREE_CLASSES)
    model = _catkd(student=part, teacher=dict(part))
    assert _classes(model.student) == _classes(model.teacher) == (3, 3)


def test_pretrained_with_overrides_or_without_weights_is_refused():
    """MMRazor loads a package's published weights only for the config as
    it is; with overrides (or for mmcatkd, which publishes none) that would
    be silently wrong, so it is one sentence instead."""
    with pytest.raises(ValueError, match='pretrained=True needs'):
        resolve_cfg_path(
            dict(cfg_path=RESNET18_IN1K, pretrained=True, **THREE_CLASSES))
    with pytest.raises(ValueError, match='pretrained=True needs'):
        resolve_cfg_path(
            dict(
                cfg_path=f'mmcatkd::{DIGITS_STUDENT_CONFIG}', pretrained=True))
    as_is = dict(cfg_path=RESNET18_IN1K, pretrained=True)
    assert resolve_cfg_path(as_is) is as_is


@pytest.mark.slow  # two full-size ResNet-18s
def test_mmpretrain_cfg_path_with_three_classes_builds_three_classes():
    """The ImageNet ResNet-18 of MMPretrain's wheel with
    head=dict(num_classes=3), as teacher and as student: 3 classes each,
    not the config's 1000."""
    part = dict(cfg_path=RESNET18_IN1K, **THREE_CLASSES)
    model = _catkd(student=part, teacher=dict(part))
    assert _classes(model.student) == _classes(model.teacher) == (3, 3)
    assert model.student.backbone.depth == model.teacher.backbone.depth == 18
