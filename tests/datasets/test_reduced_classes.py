"""ReducedClassDataset: the reduced training sets of CAT-KD's Sec. 4.2."""
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import mmcatkd  # noqa: F401  (registers the data sets)
from mmcatkd.datasets import ReducedClassDataset, SklearnDigits


@pytest.fixture(scope='module')
def digits():
    return SklearnDigits('train', img_size=8)


def test_keeps_exactly_the_requested_classes_and_share(digits):
    """Only the kept classes remain, each with round(rate * n) images, and
    labels and class names are those of the full data set: the model keeps
    all K outputs and the dropped classes are really unseen."""
    full_counts = np.bincount(digits.get_gt_labels(), minlength=10)
    reduced = ReducedClassDataset(digits, classes=[1, 4, 7], rate=0.5)
    counts = np.bincount(reduced.get_gt_labels(), minlength=10)
    expected = np.zeros(10, dtype=int)
    for label in (1, 4, 7):
        expected[label] = round(0.5 * full_counts[label])
    assert np.array_equal(counts, expected)
    assert reduced.metainfo['classes'] == digits.metainfo['classes']
    # a sample is the wrapped data set's sample, label unchanged
    sample = reduced[0]
    assert sample['gt_label'] in (1, 4, 7)


def test_first_n_and_class_names(digits):
    """num_classes=n keeps labels 0..n-1 (the authors' RESERVED_CLASS_NUM);
    names select the same classes as labels."""
    first = ReducedClassDataset(digits, num_classes=8)
    assert set(first.get_gt_labels()) == set(range(8))
    assert len(first) == int(np.isin(digits.get_gt_labels(), range(8)).sum())
    by_name = ReducedClassDataset(digits, classes=['7', '1', '4'])
    by_label = ReducedClassDataset(digits, classes=[1, 4, 7])
    assert by_name.indices == by_label.indices
    # lazy_init defers the draw to the first use, with the same result
    lazy = ReducedClassDataset(digits, classes=[1, 4, 7], lazy_init=True)
    assert len(lazy) == len(by_label) and lazy.indices == by_label.indices


def test_seed_fixes_the_subset(digits):
    """The same seed draws the same images (runs are comparable); another
    seed draws different ones (the draw is really random)."""

    def draw(seed):
        return ReducedClassDataset(
            digits, num_classes=5, rate=0.3, seed=seed).indices

    assert draw(0) == draw(0)
    assert draw(0) != draw(1)
    assert len(draw(0)) == len(draw(1))


def test_built_from_a_config_and_bad_options_refused(digits):
    """The wrapper is in MMPretrain's DATASETS (configs can name it), and
    contradictory or impossible options fail at construction."""
    reduced = DATASETS.build(
        dict(
            type='ReducedClassDataset',
            dataset=dict(type='SklearnDigits', split='test', img_size=8),
            classes=[8, 9]))
    assert set(reduced.get_gt_labels()) == {8, 9}
    for options in (dict(), dict(classes=[1],
                                 num_classes=2), dict(classes=[10]),
                    dict(classes=['x']), dict(classes=[1, 1]),
                    dict(num_classes=3, rate=0), dict(num_classes=3,
                                                      rate=1.5)):
        with pytest.raises(ValueError):
            ReducedClassDataset(digits, **options)
