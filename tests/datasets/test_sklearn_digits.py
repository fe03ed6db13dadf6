"""SklearnDigits: the demo's real, bundled data as an MMPretrain dataset."""
import numpy as np
import pytest
from mmpretrain.registry import DATASETS

import mmcatkd  # noqa: F401  (registers SklearnDigits)
from mmcatkd.datasets import DIGIT_CLASSES, SklearnDigits
from mmcatkd.datasets.sklearn_digits import load_digits_split


def images_and_labels(dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return (np.stack([info['img'] for info in infos]),
            np.array([info['gt_label'] for info in infos]))


def test_splits_partition_all_images_with_every_class_balanced():
    """Train and test together hold the 1,797 images once each, and each
    class has the same share (1/3, rounded) in test: the split is stratified,
    so test accuracy is not skewed by a missing or over-represented digit."""
    train, test = SklearnDigits('train'), SklearnDigits('test')
    assert len(train) + len(test) == 1797
    assert (len(train), len(test)) == (1198, 599)
    train_counts = np.bincount(train.get_gt_labels(), minlength=10)
    test_counts = np.bincount(test.get_gt_labels(), minlength=10)
    total = train_counts + test_counts
    assert np.array_equal(test_counts, np.round(total / 3).astype(int))
    train_imgs, _ = images_and_labels(train)
    test_imgs, _ = images_and_labels(test)
    train_keys = {img.tobytes() for img in train_imgs}
    assert not any(img.tobytes() in train_keys for img in test_imgs)


def test_split_is_deterministic_and_independent_of_the_seed():
    """The test split is fixed (same images for every experiment, whatever
    the `seed` of the few-label draw), so students are compared on one set."""
    a_imgs, a_labels = images_and_labels(SklearnDigits('test'))
    b_imgs, b_labels = images_and_labels(SklearnDigits('test', seed=7))
    assert np.array_equal(a_imgs, b_imgs)
    assert np.array_equal(a_labels, b_labels)


def test_images_are_the_digits_upsampled_to_uint8_rgb():
    """Images are (S, S, 3) uint8 with identical channels, and each is its
    8x8 scan upsampled: averaging 4x4 blocks gives the scan back (0..16
    scaled to 0..255) up to the blur of bilinear interpolation."""
    imgs, labels = images_and_labels(SklearnDigits('train', img_size=32))
    assert imgs.shape == (1198, 32, 32, 3) and imgs.dtype == np.uint8
    assert np.array_equal(imgs[..., 0], imgs[..., 2])
    scans, targets = load_digits_split('train')
    assert np.array_equal(labels, targets)
    blocks = imgs[..., 0].reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4))
    expected = scans * 255 / 16
    assert np.corrcoef(blocks.ravel(), expected.ravel())[0, 1] > 0.95
    assert np.abs(blocks - expected).mean() < 25  # 255 is full scale
    small = SklearnDigits('test', img_size=16).get_data_info(0)['img']
    assert small.shape == (16, 16, 3)


def test_class_names_and_standard_pipeline():
    """Built from a config like MMPretrain's datasets, class names '0'..'9',
    and PackInputs turns a sample into a (3, S, S) tensor with its label."""
    dataset = DATASETS.build(
        dict(
            type='SklearnDigits',
            split='test',
            pipeline=[dict(type='PackInputs')]))
    assert dataset.metainfo['classes'] == DIGIT_CLASSES
    assert DIGIT_CLASSES == tuple('0123456789')
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert int(sample['data_samples'].gt_label) == \
        dataset.get_data_info(0)['gt_label']


def test_num_per_class_draws_a_balanced_seeded_subset_of_train():
    """num_per_class keeps exactly n images of each class, drawn from the
    full split; the same seed draws the same images, another seed others."""
    full_imgs, _ = images_and_labels(SklearnDigits('train'))
    full = {img.tobytes() for img in full_imgs}
    imgs, labels = images_and_labels(SklearnDigits('train', num_per_class=5))
    assert np.array_equal(np.bincount(labels), [5] * 10)
    assert all(img.tobytes() in full for img in imgs)
    again, _ = images_and_labels(SklearnDigits('train', num_per_class=5))
    other, _ = images_and_labels(
        SklearnDigits('train', num_per_class=5, seed=1))
    assert np.array_equal(imgs, again)
    assert not np.array_equal(imgs, other)


def test_classes_subset_relabels_in_the_given_order():
    """classes=['8', '3'] keeps only eights and threes, labelled 0 and 1 in
    that order, with metainfo naming them, so heads with 2 outputs fit."""
    subset = SklearnDigits('test', classes=['8', '3'])
    full = SklearnDigits('test')
    full_labels = full.get_gt_labels()
    assert subset.metainfo['classes'] == ('8', '3')
    labels = subset.get_gt_labels()
    assert np.array_equal(
        np.bincount(labels), [(full_labels == 8).sum(),
                              (full_labels == 3).sum()])


@pytest.mark.parametrize('kwargs, message', [
    (dict(split='val'), "'train' or 'test'"),
    (dict(num_per_class=0), 'num_per_class'),
    (dict(num_per_class=500), 'has only'),
    (dict(classes=['3', 'x']), 'distinct digits'),
])
def test_bad_arguments_fail_with_a_clear_message(kwargs, message):
    """Wrong split names, impossible subset sizes and unknown classes fail at
    construction with a sentence naming the problem."""
    with pytest.raises(ValueError, match=message):
        SklearnDigits(**kwargs)
