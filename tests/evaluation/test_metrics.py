"""The analysis metrics against values computed by hand on small inputs."""
import math

import pytest
import torch
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

from mmcatkd.evaluation import (affinity, batch_weighted_iou, cam_iou,
                                cam_masks, expected_calibration_error,
                                kl_divergence, mask_overlap,
                                prediction_entropy, top1_agreement)


def _probs_with_confidence(confidences):
    """(N, 4) rows whose top-1 is class 0 with the given probability."""
    rows = [[c] + [(1 - c) / 3] * 3 for c in confidences]
    return torch.tensor(rows, dtype=torch.float32)


# Confidences and correctness; by bin (a, b]:
#   (0.9, 1.0]: 0.95 right          -> |1 - 0.95|    = 0.05,  n = 1
#   (0.8, 0.9]: 0.85 wrong          -> |0 - 0.85|    = 0.85,  n = 1
#   (0.5, 0.6]: 0.58 wrong, 0.55 right -> |0.5 - 0.565| = 0.065, n = 2
#   (0.2, 0.3]: 0.30 right (on the edge: in the lower bin) -> 0.7, n = 1
CONFIDENCES = [0.95, 0.85, 0.58, 0.55, 0.30]
LABELS = torch.tensor([0, 1, 1, 0, 0])  # predictions are all class 0


def test_ece_count_weighted_matches_hand_value():
    """Standard ECE = sum_m n_m/N |acc_m - conf_m| = 1.73 / 5, with a
    confidence on a bin edge counted in the lower bin (a, b]."""
    ece = expected_calibration_error(
        _probs_with_confidence(CONFIDENCES), LABELS, num_bins=10)
    assert ece == pytest.approx(1.73 / 5, abs=1e-6)


def test_ece_unweighted_is_the_mean_over_all_bins():
    """The authors' variant averages |acc_m - conf_m| over all 10 bins,
    empty ones counting 0: 1.665 / 10."""
    ece = expected_calibration_error(
        _probs_with_confidence(CONFIDENCES),
        LABELS,
        num_bins=10,
        unweighted=True)
    assert ece == pytest.approx(1.665 / 10, abs=1e-6)


def test_ece_metric_reports_both_variants_under_its_prefix():
    """The registered metric reads pred_score/gt_label from data samples
    and gives the same numbers as the function."""
    metric = METRICS.build(
        dict(type='ExpectedCalibrationError', unweighted=True))
    samples = [
        DataSample().set_pred_score(row).set_gt_label(int(label)).to_dict()
        for row, label in zip(_probs_with_confidence(CONFIDENCES), LABELS)
    ]
    metric.process(None, samples)
    results = metric.evaluate(len(samples))
    assert results['calibration/ece'] == pytest.approx(0.346, abs=1e-6)
    assert results['calibration/ece_unweighted'] == pytest.approx(
        0.1665, abs=1e-6)


def test_top1_agreement_counts_matching_argmax():
    """Fidelity is the fraction of samples with the same top-1 class."""
    student = torch.tensor([[0., 1, 0], [0, 0, 1], [5, 0, 0], [0, 2, 1]])
    teacher = torch.tensor([[0., 2, 0], [1, 0, 0], [3, 1, 0], [0, 0, 9]])
    assert top1_agreement(student, teacher) == 0.5


def test_kl_and_entropy_match_hand_values():
    """p_T = (1/2, 1/2), p_S = (1/4, 3/4): KL(p_T||p_S) = ln(4/3)/2,
    H(p_T) = ln 2, H(p_S) = -(1/4 ln 1/4 + 3/4 ln 3/4)."""
    teacher = torch.tensor([[0., 0.]], dtype=torch.float64)
    student = torch.tensor([[0., math.log(3)]], dtype=torch.float64)
    assert kl_divergence(teacher, student) == pytest.approx(
        0.5 * math.log(4 / 3), abs=1e-9)
    assert kl_divergence(teacher, teacher) == pytest.approx(0, abs=1e-12)
    assert prediction_entropy(teacher) == pytest.approx(math.log(2))
    assert prediction_entropy(student) == pytest.approx(
        -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def test_fidelity_metric_uses_the_mean_of_teacher_logits():
    """With two teachers the student is compared with the ensemble (mean
    logits): it agrees with the ensemble on both samples but with each
    teacher on only one."""
    teacher0 = torch.tensor([[2., 0, 0], [0, 0, 3]])
    teacher1 = torch.tensor([[0., 3, 0], [0, 1, 0]])  # mean: top-1 1, 2
    student = torch.tensor([[0., 1, 0], [0, 0, 1]])
    metric = METRICS.build(dict(type='TeacherFidelity'))
    metric.process(None, [
        dict(
            pred_logits=student[i],
            teacher_logits=torch.stack([teacher0[i], teacher1[i]]))
        for i in range(2)
    ])
    results = metric.evaluate(2)
    ensemble = (teacher0 + teacher1) / 2
    assert results['fidelity/top1_agreement'] == 1.0
    assert results['fidelity/top1_agreement_teacher0'] == 0.5
    assert results['fidelity/top1_agreement_teacher1'] == 0.5
    # the authors' 10 KL(p_student || p_ensemble)
    assert results['fidelity/kl'] == pytest.approx(
        10 * kl_divergence(student, ensemble))
    assert results['fidelity/teacher_entropy'] == pytest.approx(
        prediction_entropy(ensemble))


def test_fidelity_metric_without_teacher_logits_says_what_to_do():
    """A plain classifier's predictions carry no teacher logits."""
    metric = METRICS.build(dict(type='TeacherFidelity'))
    with pytest.raises(KeyError, match='attach_teacher_outputs=True'):
        metric.process(None, [dict(pred_score=torch.ones(3) / 3)])


def test_cam_masks_normalise_per_image_and_threshold_strictly():
    """Min-max per image, then > threshold: [[0, 1], [2, 4]] normalises to
    [[0, .25], [.5, 1]]; the same map scaled and shifted gives the same mask;
    a constant map gives an empty mask."""
    cams = torch.tensor([[[0., 1], [2, 4]], [[10., 12], [14, 18]],
                         [[3., 3], [3, 3]]])
    masks = cam_masks(cams, (2, 2), threshold=0.4)
    expected = torch.tensor([[False, False], [True, True]])
    assert torch.equal(masks[0], expected)
    assert torch.equal(masks[1], expected)
    assert not masks[2].any()
    assert torch.equal(
        cam_masks(cams[:1], (2, 2), threshold=0.25)[0], expected)


def test_cam_masks_upsample_bilinearly_to_the_input_size():
    """A 1x2 map [0, 1] upsampled to 1x4 (align_corners=False) is
    [0, .25, .75, 1]: above 0.4 the right half, above 0.2 three pixels."""
    cam = torch.tensor([[[0., 1.]]])
    assert cam_masks(cam, (1, 4),
                     0.4).tolist() == [[[False, False, True, True]]]
    assert cam_masks(cam, (1, 4), 0.2).tolist() == [[[False, True, True,
                                                      True]]]


def _masks(*rows):
    return torch.tensor(rows, dtype=torch.bool)[:, None, :]  # (N, 1, 4)


def test_cam_iou_identical_is_one_and_disjoint_is_zero():
    """IoU of a mask set with itself is 1; with its complement 0."""
    mask = _masks([1, 1, 0, 0], [0, 1, 0, 1])
    assert cam_iou(mask, mask) == 1.0
    assert cam_iou(mask, ~mask) == 0.0


def test_cam_iou_pools_counts_over_images():
    """Image 1: I=1, U=3; image 2: I=1, U=1. Pooled IoU = 2/4 (not the
    mean of per-image IoUs, 2/3)."""
    a = _masks([1, 1, 0, 0], [1, 0, 0, 0])
    b = _masks([0, 1, 1, 0], [1, 0, 0, 0])
    assert mask_overlap(a, b) == (2, 4)
    assert cam_iou(a, b) == 0.5


def test_cam_iou_of_three_models_is_all_over_any():
    """Intersection of all three over their union: image 1 I=1, U=4;
    image 2 I=0 (c is empty), U=1 -> 1/5."""
    a = _masks([1, 1, 0, 0], [1, 0, 0, 0])
    b = _masks([0, 1, 1, 0], [1, 0, 0, 0])
    c = _masks([0, 1, 0, 1], [0, 0, 0, 0])
    assert mask_overlap(a, b, c) == (1, 5)
    assert cam_iou(a, b, c) == pytest.approx(0.2)


def test_cam_iou_metric_reports_pairs_and_all_models():
    """The metric masks each sample's CAMs at its img_shape and pools the
    counts: pairs by name, and 'all' for three models."""
    student = torch.tensor([[0., 1], [2, 4]])  # mask: bottom row
    teacher0 = torch.tensor([[0., 4], [1, 4]])  # right column
    teacher1 = torch.tensor([[4., 0], [4, 0]])  # left column
    metric = METRICS.build(dict(type='CAMIoU', threshold=0.4))
    metric.process(None, [
        dict(
            cams=torch.stack([student, teacher0, teacher1]), img_shape=(2, 2))
    ])
    results = metric.evaluate(1)
    assert results == {
        'cam_iou/student-teacher0': pytest.approx(1 / 3),
        'cam_iou/student-teacher1': pytest.approx(1 / 3),
        'cam_iou/teacher0-teacher1': 0.0,
        'cam_iou/all': 0.0,
    }


def test_batch_weighted_iou_is_the_authors_mean_over_batches():
    """Batch 1 (3 images): I=2, U=4 -> 0.5; batch 2 (1 image): I=1, U=1
    -> 1.0. The authors' mean weighted by batch size is (3 x 0.5 + 1 x 1)
    / 4 = 0.625; pooled counts give 3/5 = 0.6; a batch with an empty union
    is left out."""
    assert batch_weighted_iou([(2, 4, 3), (1, 1, 1)]) == 0.625
    assert batch_weighted_iou([(2, 4, 3), (1, 1, 1), (0, 0, 2)]) == 0.625
    assert math.isnan(batch_weighted_iou([(0, 0, 2)]))


def _cam_iou_batches(**options):
    """CAMIoU over two batches of 2x2 CAMs whose masks (threshold 0.4) are:
    batch 1, image 1: student bottom row, teacher right column (I=1, U=3);
    image 2: both the right column (I=2, U=2); batch 2, one image: student
    bottom row, teacher left column (I=1, U=3)."""
    bottom = torch.tensor([[0., 1], [2, 4]])
    right = torch.tensor([[0., 4], [1, 4]])
    left = torch.tensor([[4., 0], [4, 0]])
    metric = METRICS.build(dict(type='CAMIoU', threshold=0.4, **options))
    metric.process(None, [
        dict(cams=torch.stack([bottom, right]), img_shape=(2, 2)),
        dict(cams=torch.stack([right, right]), img_shape=(2, 2)),
    ])
    metric.process(None, [
        dict(cams=torch.stack([bottom, left]), img_shape=(2, 2)),
    ])
    return metric.evaluate(3)['cam_iou/student-teacher0']


def test_cam_iou_metric_averages_batches_as_the_authors():
    """Batch 1 pools to I=3, U=5 -> 0.6 (2 images), batch 2 gives 1/3
    (1 image): the authors' (2 x 0.6 + 1 x 1/3) / 3 = 23/45;
    averaging='pooled' gives (3 + 1) / (5 + 3) = 0.5."""
    assert _cam_iou_batches() == pytest.approx(23 / 45)
    assert _cam_iou_batches(averaging='pooled') == pytest.approx(0.5)
    with pytest.raises(ValueError, match='averaging'):
        METRICS.build(dict(type='CAMIoU', averaging='mean'))


def test_affinity_is_the_ratio_of_accuracies():
    """Accuracy 1/2 on augmented views over 3/4 on base views = 2/3."""
    augmented = torch.tensor([True, False, True, False])
    base = torch.tensor([True, True, True, False])
    assert affinity(augmented, base) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match='same images'):
        affinity(augmented, base[:3])
