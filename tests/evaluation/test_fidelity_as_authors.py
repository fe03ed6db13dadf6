"""The fidelity measurements as the authors' trainer logs them (Guo et al.,
ESWA 2025; zisci2/RethinkKD trainer.py): KL = 10 KL(p_S || p_T), and the
mutual information of top-1 predictions (mi: scikit-learn's k-NN estimator,
mis: the contingency-table score), per batch then averaged over batches.

KL and mis are worked out by hand. mi has no exact hand value: Ross's
estimator counts the samples inside each sample's k-th-neighbour radius,
and whether that neighbour itself is counted depends on rounding (scikit-
learn computes the radius and the count with two distance routines). Its
reference is therefore the authors' own call, ``get_mi``:
``mutual_info_classif(student_top1[:, None], teacher_top1)``."""
import math

import numpy as np
import pytest
import torch
from mmpretrain.registry import METRICS

import mmcatkd  # noqa: F401  (registers the metrics)
from mmcatkd.evaluation.metrics import (fidelity_kl,
                                        prediction_mutual_info_score,
                                        prediction_mutual_information)


def one_hot_logits(classes, num_classes=6):
    """Logits whose top-1 classes are ``classes``."""
    return torch.eye(num_classes)[torch.tensor(classes)] * 5


# Teacher classes 0 (3 samples) and 1 (2 samples); the student predicts
# class 0 for the first three and classes 3 and 5 for the other two.
TEACHER, STUDENT = [0, 0, 0, 1, 1], [0, 0, 0, 3, 5]
# joint (T0, S0) 3/5, (T1, S3) 1/5, (T1, S5) 1/5; marginals T (3/5, 2/5),
# S (3/5, 1/5, 1/5)
MIS_BY_HAND = 0.6 * math.log(0.6 /
                             (0.6 * 0.6)) + 2 * 0.2 * math.log(0.2 /
                                                               (0.4 * 0.2))


def test_kl_is_ten_times_student_against_teacher():
    teacher = torch.tensor([[0., 0.]])  # p_T = (1/2, 1/2)
    student = torch.tensor([[0., math.log(3.)]])  # p_S = (1/4, 3/4)
    by_hand = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert fidelity_kl(teacher, student) == pytest.approx(10 * by_hand)
    # not the KD direction KL(p_T || p_S)
    reverse = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert abs(fidelity_kl(teacher, student) - 10 * reverse) > 0.05


@pytest.mark.parametrize(
    'teacher, student, by_hand',
    [
        ([0, 0, 1, 1], [0, 0, 1, 1], math.log(2)),
        ([0, 0, 1, 1], [0, 1, 0, 1], 0.0),
        # joint (0,0) 2/4, (0,1) 1/4, (1,1) 1/4; marginals T (3/4, 1/4),
        # S (1/2, 1/2)
        ([0, 0, 0, 1], [0, 0, 1, 1], 0.5 * math.log(0.5 / (0.75 * 0.5)) +
         0.25 * math.log(0.25 / (0.75 * 0.5)) + 0.25 * math.log(0.25 /
                                                                (0.25 * 0.5))),
    ])
def test_mis_is_the_plug_in_mutual_information(teacher, student, by_hand):
    assert prediction_mutual_info_score(
        one_hot_logits(teacher), one_hot_logits(student)) == pytest.approx(
            by_hand, abs=1e-12)


def authors_get_mi(teacher_classes, student_classes, seed=0):
    """RethinkKD's get_mi: the student's top-1 is the feature (continuous,
    scikit-learn's default for a dense array), the teacher's the target."""
    from sklearn.feature_selection import mutual_info_classif
    return mutual_info_classif(
        np.array(student_classes).reshape(-1, 1),
        np.array(teacher_classes),
        random_state=seed)[0]


def test_mi_is_the_authors_nearest_neighbour_estimate():
    assert prediction_mutual_information(
        one_hot_logits(TEACHER), one_hot_logits(STUDENT)) == pytest.approx(
            authors_get_mi(TEACHER, STUDENT), rel=1e-12)
    # not the plug-in score: the estimator is biased differently
    assert prediction_mutual_information(
        one_hot_logits(TEACHER), one_hot_logits(STUDENT)) != pytest.approx(
            MIS_BY_HAND, rel=1e-3)
    assert prediction_mutual_info_score(
        one_hot_logits(TEACHER), one_hot_logits(STUDENT)) == pytest.approx(
            MIS_BY_HAND, rel=1e-9)


def test_mi_without_a_repeated_teacher_class_has_no_estimate():
    assert math.isnan(
        prediction_mutual_information(
            one_hot_logits([0, 1, 2]), one_hot_logits([0, 1, 2])))


def test_metric_averages_mi_and_mis_over_batches():
    """Two batches of the hand-computed case: the metric reports the
    per-batch value (estimated on the 10 samples at once, mi would
    differ), the KL is the authors' 10 KL(p_S || p_T), and the ensemble of
    two teachers is the mean of their logits."""
    metric = METRICS.build(dict(type='TeacherFidelity'))
    teacher_logits = one_hot_logits(TEACHER)
    for _ in range(2):
        metric.process(None, [
            dict(
                pred_logits=one_hot_logits(STUDENT)[i],
                teacher_logits=torch.stack(
                    [teacher_logits[i], teacher_logits[i] * 0.5]))
            for i in range(5)
        ])
    results = metric.evaluate(10)
    mi_of_one_batch = authors_get_mi(TEACHER, STUDENT)
    assert results['fidelity/mi'] == pytest.approx(mi_of_one_batch)
    assert results['fidelity/mis'] == pytest.approx(MIS_BY_HAND, rel=1e-9)
    assert prediction_mutual_information(
        torch.cat([teacher_logits] * 2),
        torch.cat([one_hot_logits(STUDENT)] *
                  2)) != pytest.approx(mi_of_one_batch)
    assert results['fidelity/top1_agreement'] == pytest.approx(0.6)
    # ensemble rows: (5 + 2.5) / 2 = 3.75 on its class; student rows: 5
    p_t = torch.softmax(torch.tensor([3.75, 0, 0, 0, 0, 0]), 0)
    p_s_same = torch.softmax(torch.tensor([5., 0, 0, 0, 0, 0]), 0)
    kl_same = (p_s_same * (p_s_same / p_t).log()).sum().item()
    p_s_other = torch.softmax(torch.tensor([0, 0, 0, 5., 0, 0]), 0)
    p_t_1 = torch.softmax(torch.tensor([0, 3.75, 0, 0, 0, 0]), 0)
    kl_other = (p_s_other * (p_s_other / p_t_1).log()).sum().item()
    assert results['fidelity/kl'] == pytest.approx(
        10 * (3 * kl_same + 2 * kl_other) / 5, rel=1e-5)


def test_authors_kl_has_no_temperature():
    with pytest.raises(ValueError, match="kl_mode='kd'"):
        METRICS.build(dict(type='TeacherFidelity', temperature=3.0))
