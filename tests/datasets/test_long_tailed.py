"""LongTailedDataset: long-tailed CIFAR-100 of the multi-teacher study."""
import numpy as np
import pytest
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

import mmcatkd  # noqa: F401  (registers the data sets)
from mmcatkd.datasets import LongTailedDataset

NUM_CLASSES, PER_CLASS = 100, 500

# floor(500 * 100 ** (-i / 99)) for i = 0..99, worked out by hand: the
# per-class counts of the authors' CIFAR100_train_imb100.txt
CIFAR100_LT_COUNTS = [
    500, 477, 455, 434, 415, 396, 378, 361, 344, 328, 314, 299, 286, 273,
    260, 248, 237, 226, 216, 206, 197, 188, 179, 171, 163, 156, 149, 142,
    135, 129, 123, 118, 112, 107, 102, 98, 93, 89, 85, 81, 77, 74, 70, 67,
    64, 61, 58, 56, 53, 51, 48, 46, 44, 42, 40, 38, 36, 35, 33, 32, 30, 29,
    27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 15, 14, 13, 13, 12,
    12, 11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5
]


class BalancedLabels(BaseDataset):
    """PER_CLASS samples of each of NUM_CLASSES classes, interleaved."""

    def __init__(self, per_class=PER_CLASS, **kwargs):
        self.per_class = per_class
        super().__init__(
            ann_file='',
            metainfo=dict(classes=[str(i) for i in range(NUM_CLASSES)]),
            **kwargs)

    def load_data_list(self):
        return [dict(gt_label=index % NUM_CLASSES, sample_idx=index)
                for index in range(NUM_CLASSES * self.per_class)]


@pytest.fixture(scope='module')
def balanced():
    return BalancedLabels()


def test_cifar100_imbalance_100_keeps_the_papers_counts(balanced):
    long_tailed = LongTailedDataset(balanced, imbalance_factor=100)
    counts = np.bincount(long_tailed.get_gt_labels(), minlength=NUM_CLASSES)
    assert counts.tolist() == CIFAR100_LT_COUNTS
    assert len(long_tailed) == sum(CIFAR100_LT_COUNTS) == 10847
    assert long_tailed.metainfo['classes'] == balanced.metainfo['classes']
    # samples are the wrapped data set's, distinct, labels unchanged
    kept = [long_tailed.get_data_info(i)['sample_idx']
            for i in range(len(long_tailed))]
    assert len(set(kept)) == len(kept)
    info = long_tailed.get_data_info(len(long_tailed) - 1)
    assert info['gt_label'] == info['sample_idx'] % NUM_CLASSES


def test_the_draw_follows_the_seed(balanced):
    first = LongTailedDataset(balanced, seed=0).indices
    assert LongTailedDataset(balanced, seed=0).indices == first
    assert LongTailedDataset(balanced, seed=1).indices != first


def test_built_from_a_config_in_mmpretrains_registry():
    DATASETS.register_module(module=BalancedLabels, force=True)
    built = DATASETS.build(
        dict(type='LongTailedDataset', imbalance_factor=10,
             dataset=dict(type='BalancedLabels', per_class=20)))
    counts = np.bincount(built.get_gt_labels(), minlength=NUM_CLASSES)
    # floor(20 * 10 ** (-i / 99)): 20 for class 0, 2 for class 99
    assert (counts[0], counts[99]) == (20, 2)


@pytest.mark.parametrize('factor', [1, 0.5, True, '100'])
def test_a_factor_that_is_no_imbalance_is_refused(balanced, factor):
    with pytest.raises(ValueError, match='imbalance_factor must be a number'):
        LongTailedDataset(balanced, imbalance_factor=factor)


def test_an_unbalanced_input_too_small_for_the_profile_is_refused():
    class Short(BalancedLabels):

        def load_data_list(self):  # no image of class 99
            return [item for item in super().load_data_list()
                    if item['gt_label'] != 99]

    with pytest.raises(ValueError, match='class 99 has 0 images'):
        LongTailedDataset(Short(per_class=100))
