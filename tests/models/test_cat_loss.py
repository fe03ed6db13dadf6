"""CATLoss against the authors' implementation and hand-computed cases."""
import functools
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmcatkd.models.losses import CATLoss
from mmcatkd.models.losses.cat_loss import binarize_cams
from tests.conftest import golden_params


def golden_cases(root: str) -> dict:
    """``cases.json`` of a golden set: name -> beta, resolution, normalize,
    binarize and the official loss."""
    with open(osp.join(root, 'cat_loss', 'cases.json')) as f:
        return json.load(f)


@functools.lru_cache()
def golden_arrays(root: str):
    """``cases.npz`` of a golden set: ``NAME/student``, ``NAME/teacher``,
    ``NAME/grad_student``."""
    return np.load(osp.join(root, 'cat_loss', 'cases.npz'))


@pytest.mark.parametrize('root, name', golden_params(golden_cases))
def test_matches_official_loss_and_gradient(root, name):
    """Loss and d loss / d student CAMs equal the official CAT-KD code's
    values (float64, 1e-9 relative) for every golden case: those of the
    compact subset always, all of the full set where it is present."""
    case = golden_cases(root)[name]
    arrays = golden_arrays(root)
    student = torch.from_numpy(arrays[f'{name}/student']).requires_grad_()
    teacher = torch.from_numpy(arrays[f'{name}/teacher'])
    loss_fn = CATLoss(
        loss_weight=case['beta'],
        resolution=case['resolution'],
        normalize=case['normalize'],
        binarize=case['binarize'])
    loss = loss_fn(student, teacher)
    loss.backward()
    np.testing.assert_allclose(loss.item(), case['loss'], rtol=1e-9)
    expected_grad = arrays[f'{name}/grad_student']
    np.testing.assert_allclose(
        student.grad.numpy(),
        expected_grad,
        rtol=1e-9,
        atol=1e-9 * np.abs(expected_grad).max())


def test_teacher_is_detached():
    """No gradient flows into the teacher's CAMs."""
    student = torch.randn(2, 3, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 3, 4, 4, requires_grad=True)
    CATLoss()(student, teacher).backward()
    assert teacher.grad is None
    assert student.grad is not None


def test_binarize_threshold_is_mean_absolute_value():
    """A teacher map becomes 1 exactly where it exceeds mean |CAM| over HxW."""
    cam = torch.tensor([[[[4., -4.], [1., 3.]]]])  # mean |CAM| = 3
    expected = torch.tensor([[[[1., 0.], [0., 0.]]]])
    assert torch.equal(binarize_cams(cam), expected)


def test_binarize_applies_to_teacher_only():
    """With binarize=True the loss compares the student to the 0/1 teacher
    map (hand-computed, resolution 1, no normalisation)."""
    teacher = torch.tensor([[[[4., -4.], [1., 3.]]]])  # binary mean 0.25
    student = torch.full((1, 1, 2, 2), 0.75)
    loss = CATLoss(
        resolution=1, normalize=False, binarize=True)(student, teacher)
    assert loss.item() == pytest.approx((0.75 - 0.25)**2)


def _scored_cams(scores):
    """CAMs (N, K, 2, 2) whose spatial mean is ``scores`` (N, K)."""
    scores = torch.tensor(scores, dtype=torch.float64)
    return scores[:, :, None, None].expand(-1, -1, 2, 2).clone()


@pytest.mark.parametrize('selection, kept', [
    ('top', [[1, 3], [0, 2]]),
    ('bottom', [[0, 2], [1, 3]]),
])
def test_partial_selection_keeps_exactly_n_classes(selection, kept):
    """num_selected=n compares the CAMs of exactly the n top (or bottom)
    classes by teacher score, per sample; the loss is their mean."""
    teacher = _scored_cams([[0.1, 0.9, 0.2, 0.8], [0.7, 0.0, 0.6, 0.1]])
    student = torch.zeros(2, 4, 2, 2, dtype=torch.float64)
    student[:, :, 0, 0] = torch.arange(4, dtype=torch.float64) + 1
    loss = CATLoss(
        resolution=2, normalize=False, num_selected=2,
        selection=selection)(student, teacher)
    expected = torch.stack([
        (student[n, kept[n]] - teacher[n, kept[n]]).pow(2).mean()
        for n in range(2)
    ]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)


def test_selection_of_all_classes_equals_full_loss():
    """Selecting all K classes reorders but changes nothing."""
    student, teacher = torch.randn(3, 5, 4, 4), torch.randn(3, 5, 4, 4)
    full = CATLoss(resolution=2)(student, teacher)
    selected = CATLoss(resolution=2, num_selected=5)(student, teacher)
    assert selected.item() == pytest.approx(full.item(), rel=1e-6)


def test_normalize_is_l2_over_positions():
    """normalize=True divides each pooled (sample, class) map by its l2
    norm: maps that differ by a positive factor give zero loss."""
    teacher = torch.rand(2, 3, 4, 4) + 0.1
    assert CATLoss(resolution=2)(3.0 * teacher, teacher).item() < 1e-12
    assert CATLoss(
        resolution=2, normalize=False)(3.0 * teacher, teacher).item() > 0.1


def test_pools_student_and_teacher_of_different_size():
    """Teacher 8x8 and student 4x4 are both pooled to r x r first."""
    teacher = torch.randn(2, 3, 8, 8)
    student = F.avg_pool2d(teacher, 2)
    assert CATLoss(resolution=4)(student, teacher).item() < 1e-12


@pytest.mark.parametrize('student_shape, teacher_shape, kwargs, match', [
    ((2, 3, 4, 4), (3, 3, 4, 4), {}, r'\(2, 3, 4, 4\).*\(3, 3, 4, 4\)'),
    ((2, 3, 4, 4), (2, 5, 4, 4), {}, r'\(2, 3, 4, 4\).*\(2, 5, 4, 4\)'),
    ((2, 3, 2, 2), (2, 3, 8, 8), dict(resolution=4), r'\(2, 3, 2, 2\)'),
    ((2, 3, 4, 4), (2, 3, 4, 4), dict(num_selected=4), 'exceeds the 3'),
])
def test_bad_shapes_raise_value_error_naming_them(student_shape, teacher_shape,
                                                  kwargs, match):
    """N or K mismatch, a resolution larger than a map, or more selected
    classes than exist raise ValueError with the shapes."""
    with pytest.raises(ValueError, match=match):
        CATLoss(**kwargs)(torch.randn(student_shape),
                          torch.randn(teacher_shape))


@pytest.mark.parametrize('kwargs', [
    dict(resolution=0),
    dict(resolution=2.5),
    dict(selection='middle'),
    dict(num_selected=0),
])
def test_bad_options_raise_value_error(kwargs):
    """Invalid options fail when the loss is built, not at the first step."""
    with pytest.raises(ValueError):
        CATLoss(**kwargs)


@pytest.mark.parametrize(
    'selection, kept',
    [
        # top 2 -> above the 2nd highest: 1 class; bottom 2 -> all but those
        # above the 2nd highest (K - n = 2): 3 classes
        ('top', [[1], [0]]),
        ('bottom', [[0, 2, 3], [1, 2, 3]]),
    ])
def test_authors_class_count_keeps_n_minus_or_plus_one(selection, kept):
    """class_count='authors' keeps what the authors' strict comparison
    keeps: n - 1 classes for 'top', n + 1 for 'bottom' (their Fig. 4 "75
    lowest" transfers 76 of 100)."""
    teacher = _scored_cams([[0.1, 0.9, 0.2, 0.8], [0.7, 0.0, 0.6, 0.1]])
    student = torch.zeros(2, 4, 2, 2, dtype=torch.float64)
    student[:, :, 0, 0] = torch.arange(4, dtype=torch.float64) + 1
    loss = CATLoss(
        resolution=2,
        normalize=False,
        num_selected=2,
        selection=selection,
        class_count='authors')(student, teacher)
    expected = torch.stack([
        (student[n, kept[n]] - teacher[n, kept[n]]).pow(2).mean()
        for n in range(2)
    ]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)


def test_authors_class_count_transfers_all_classes_on_ties():
    """A tie at the threshold gives the samples different counts; the
    authors' _mask then transfers every class, and so does this rule."""
    teacher = _scored_cams([[0.1, 0.9, 0.9, 0.8], [0.7, 0.0, 0.6, 0.1]])
    student = torch.randn(2, 4, 2, 2, dtype=torch.float64)
    full = CATLoss(resolution=2, normalize=False)(student, teacher)
    partial = CATLoss(
        resolution=2,
        normalize=False,
        num_selected=2,
        selection='bottom',
        class_count='authors')(student, teacher)
    assert partial.item() == pytest.approx(full.item(), rel=1e-12)
