"""UnseenClassAccuracy against numbers counted by hand."""
import math

import pytest
import torch
from mmpretrain.registry import METRICS

import mmcatkd  # noqa: F401  (registers the metric)


def _samples(pairs, num_classes=5):
    """Data samples predicting ``pred`` for true class ``gt``."""
    samples = []
    for pred, gt in pairs:
        score = torch.zeros(num_classes)
        score[pred] = 1.0
        samples.append(dict(pred_score=score, gt_label=torch.tensor([gt])))
    return samples


def _evaluate(metric, pairs):
    metric.process(None, _samples(pairs))
    return metric.evaluate(len(pairs))


def test_hand_counted_seen_unseen_and_all():
    """Seen classes {0, 1, 2}: 4 seen images, 3 right (75 %); unseen {3, 4}:
    3 images, 1 right (33.3 %); all 7 images, 4 right (57.1 %). The unseen
    number is the paper's Fig. 4-right, top1 keeps Accuracy's key."""
    pairs = [
        (0, 0),
        (1, 1),
        (2, 2),
        (0, 2),  # seen: 3 of 4
        (3, 3),
        (0, 4),
        (2, 3)
    ]  # unseen: 1 of 3
    metric = METRICS.build(
        dict(type='UnseenClassAccuracy', seen_classes=[0, 1, 2]))
    metric.dataset_meta = dict(classes=['a', 'b', 'c', 'd', 'e'])
    result = _evaluate(metric, pairs)
    assert result['accuracy/top1'] == pytest.approx(400 / 7)
    assert result['accuracy/top1_seen'] == pytest.approx(75.0)
    assert result['accuracy/top1_unseen'] == pytest.approx(100 / 3)
    # the same classes by count and by name give the same numbers
    by_count = METRICS.build(
        dict(type='UnseenClassAccuracy', num_seen_classes=3))
    assert _evaluate(by_count, pairs) == result
    by_name = METRICS.build(
        dict(type='UnseenClassAccuracy', seen_classes=['c', 'a', 'b']))
    by_name.dataset_meta = dict(classes=['a', 'b', 'c', 'd', 'e'])
    assert _evaluate(by_name, pairs) == result


def test_no_unseen_images_is_nan_and_options_checked():
    """A test set without unseen images gives nan, not a made-up 0 or 100;
    the class list must be given exactly once."""
    metric = METRICS.build(
        dict(type='UnseenClassAccuracy', num_seen_classes=5))
    result = _evaluate(metric, [(0, 0), (1, 2)])
    assert math.isnan(result['accuracy/top1_unseen'])
    assert result['accuracy/top1_seen'] == 50.0
    with pytest.raises(ValueError):
        METRICS.build(dict(type='UnseenClassAccuracy'))
