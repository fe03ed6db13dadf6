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
    500, 477, 455, 434, 415, 396, 378, 361, 344, 328, 314, 299, 286, 273, 260,
    248, 237, 226, 216, 206, 197, 188, 179, 171, 163, 156, 149, 142, 135, 129,
    123, 118, 112, 107, 102, 98, 93, 89, 85, 81, 77, 74, 70, 67, 64, 61, 58,
    56, 53, 51, 48, 46, 44, 42, 40, 38, 36, 35, 33, 32, 30, 29, 27, 26, 25, 24,
    23, 22, 21, 20, 19, 18, 17, 16, 15, 15, 14, 13, 13, 12, 12, 11, 11, 10, 10,
    9, 9, 8, 8, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5
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
        return [
            dict(gt_label=index % NUM_CLASSES, sample_idx=index)
            for index in range(NUM_CLASSES * self.per_class)
        ]


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
    kept = [
        long_tailed.get_data_info(i)['sample_idx']
        for i in range(len(long_tailed))
    ]
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
        dict(
            type='LongTailedDataset',
            imbalance_factor=10,
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
            return [
                item for item in super().load_data_list()
                if item['gt_label'] != 99
            ]

    with pytest.raises(ValueError, match='class 99 has 0 images'):
        LongTailedDataset(Short(per_class=100))


class _TinyCIFAR(BaseDataset):
    """Eight images of two interleaved classes stored as CIFAR does: a
    pickle under ``<root>/tiny-cifar/train`` listing their file names."""
    base_folder = 'tiny-cifar'
    train_list = [['train', None]]
    test_list = [['test', None]]
    split = 'train'

    def __init__(self, root):
        import os
        import pickle
        os.makedirs(root / self.base_folder, exist_ok=True)
        names = [f'img{index}.png' for index in range(8)]
        with open(root / self.base_folder / 'train', 'wb') as file:
            pickle.dump(dict(filenames=names), file)
        super().__init__(
            ann_file='',
            data_prefix=dict(root=str(root)),
            metainfo=dict(classes=['a', 'b']))

    def load_data_list(self):
        return [dict(gt_label=index % 2) for index in range(8)]


def _subset_file(tmp_path, lines):
    path = tmp_path / 'subset.txt'
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def test_subset_file_keeps_the_listed_images(tmp_path):
    """Imbalance 4 over 2 classes of 4 keeps [4, 1] images; the list names
    class 0's four (img0, img2, img4, img6) and img5 of class 1: indices
    0, 2, 4, 5, 6 of the wrapped data set, whatever the seed."""
    listed = [f'train/0/img{index}.png 0' for index in (6, 0, 4, 2)]
    subset = _subset_file(tmp_path, listed + ['train/1/img5.png 1'])
    dataset = LongTailedDataset(
        _TinyCIFAR(tmp_path), imbalance_factor=4, seed=123, subset_file=subset)
    assert dataset.indices == [0, 2, 4, 5, 6]


def test_subset_file_is_checked_against_labels_and_counts(tmp_path):
    """A listed image under another label, or counts off the profile, is
    refused with the fix."""
    wrong_label = _subset_file(tmp_path, ['train/1/img0.png 1'])
    with pytest.raises(ValueError, match='does not have'):
        LongTailedDataset(
            _TinyCIFAR(tmp_path), imbalance_factor=4, subset_file=wrong_label)
    two_of_class_1 = _subset_file(
        tmp_path, [f'train/0/img{index}.png 0' for index in (0, 2, 4, 6)] +
        ['train/1/img1.png 1', 'train/1/img3.png 1'])
    with pytest.raises(ValueError, match='keeps 2 images of class 1'):
        LongTailedDataset(
            _TinyCIFAR(tmp_path),
            imbalance_factor=4,
            subset_file=two_of_class_1)


def test_subset_file_needs_a_cifar_data_set(tmp_path):
    subset = _subset_file(tmp_path, ['train/0/img0.png 0'])
    with pytest.raises(ValueError, match='CIFAR10 / CIFAR100'):
        LongTailedDataset(
            BalancedLabels(per_class=2),
            imbalance_factor=2,
            subset_file=subset)
