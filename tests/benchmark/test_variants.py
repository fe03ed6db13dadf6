"""The benchmark's variants on the tiny test pair: the CAM + loss step
leaves no gradient on the student's classifier, with or without a bias."""
import os.path as osp

import pytest
import torch

from mmcatkd.benchmark.variants import (build, cam_loss_variant, catkd_cfg,
                                        make_batch)
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import TEST_CONFIGS


@pytest.mark.parametrize('bias', [True, False])
def test_cam_loss_step_clears_the_classifier_gradients(bias):
    """Each step backpropagates the CAT loss into ``head.fc.weight`` (the
    CAMs are ``fc.weight`` times the features) and clears it again, so
    steps do not accumulate; a bias-free student head (as the recipes'
    students have) has no ``fc.bias`` to clear."""
    teacher = resolve_cfg_path(
        dict(cfg_path=osp.join(TEST_CONFIGS, 'tiny_teacher.py')))
    student = resolve_cfg_path(
        dict(cfg_path=osp.join(TEST_CONFIGS, 'tiny_student.py')))
    student['head']['bias'] = bias
    algorithm = build(catkd_cfg(teacher, student), torch.device('cpu'))
    fc = algorithm.student.head.fc
    assert (fc.bias is not None) == bias
    seen = []
    fc.weight.register_hook(lambda grad: seen.append(grad.abs().sum()))
    variant = cam_loss_variant('cam_loss', algorithm,
                               make_batch(2, 32, num_classes=4),
                               torch.device('cpu'))
    variant.step()
    variant.step()
    assert len(seen) == 2 and all(total > 0 for total in seen)
    assert all(param.grad is None for param in fc.parameters())
