"""scikit-learn's bundled handwritten digits as an MMPretrain dataset.

The 1,797 8x8 grey images of the UCI "Optical Recognition of Handwritten
Digits" test set ship inside scikit-learn (``sklearn.datasets.load_digits``),
so the demo trains on real images with no download and no files written.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from ..utils.errors import ConfigError

DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


def load_digits_split(split: str,
                      test_fraction: float = 1 / 3,
                      split_seed: int = 0):
    """The images (N, 8, 8) in 0..16 and labels (N,) of one stratified split.

    Each class is shuffled with ``split_seed`` and its first
    ``round(test_fraction * n_class)`` images go to 'test', the rest to
    'train', so both splits keep the class balance and never overlap.
    """
    from sklearn.datasets import load_digits  # only the demo data needs it

    if split not in ('train', 'test'):
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}.")
    digits = load_digits()
    rng = np.random.default_rng(split_seed)
    chosen = []
    for label in range(len(DIGIT_CLASSES)):
        members = rng.permutation(np.flatnonzero(digits.target == label))
        num_test = int(round(test_fraction * len(members)))
        chosen.append(members[:num_test] if split ==
                      'test' else members[num_test:])
    indices = np.sort(np.concatenate(chosen))
    return digits.images[indices], digits.target[indices]


def to_rgb_image(digit: np.ndarray, img_size: int) -> np.ndarray:
    """An 8x8 digit (0..16) as an (img_size, img_size, 3) uint8 image.

    Bilinear upsampling keeps the strokes smooth, so CAMs at the models'
    coarse resolutions still fall on recognisable parts of the digit; the grey
    level is copied to the three channels the CIFAR-family stems expect.
    """
    grey = (digit * (255.0 / 16.0)).astype(np.float32)
    grey = cv2.resize(
        grey, (img_size, img_size), interpolation=cv2.INTER_LINEAR)
    grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


@DATASETS.register_module()
class SklearnDigits(BaseDataset):
    """scikit-learn's bundled handwritten digits (1,797 images, 10 classes).

    A fixed stratified split (``test_fraction`` of every class to 'test',
    seeded by ``split_seed``; by default 1,198 train / 599 test images).
    Samples are in-memory ``img`` arrays of shape (img_size, img_size, 3),
    uint8, the 8x8 scans upsampled and repeated over three channels, so the
    standard pipeline (``PackInputs``, ``RandomCrop``, ...) applies with no
    ``LoadImageFromFile``. Class names are '0'..'9'.

    Args:
        split (str): 'train' or 'test'. Defaults to 'train'.
        img_size (int): side of the square images. Defaults to 32, the
            input size of the CIFAR-family models.
        num_per_class (int, optional): keep only this many images of each
            class, drawn with ``seed`` (few-label training, as in CAT-KD's
            Fig. 7-left). Defaults to None (all images).
        seed (int): seed of the ``num_per_class`` draw. Defaults to 0.
        classes (Sequence[str], optional): keep only these digits, e.g.
            ``['3', '5', '8']``; labels become their positions in this list.
            Defaults to None (all ten).
        test_fraction (float): share of each class in the 'test' split.
            Defaults to 1/3.
        split_seed (int): seed of the train/test split; keep it fixed so all
            experiments test on the same images. Defaults to 0.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``, ...).
    """

    METAINFO = {'classes': DIGIT_CLASSES}

    def __init__(self,
                 split: str = 'train',
                 img_size: int = 32,
                 num_per_class: Optional[int] = None,
                 seed: int = 0,
                 classes: Optional[Sequence[str]] = None,
                 test_fraction: float = 1 / 3,
                 split_seed: int = 0,
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ConfigError(
                f"split must be 'train' or 'test', got {split!r}.")
        if num_per_class is not None and (isinstance(
                num_per_class, bool) or not isinstance(num_per_class, int)
                                          or num_per_class < 1):
            raise ConfigError('num_per_class must be None or an integer >= 1, '
                              f'got {num_per_class!r}.')
        if classes is not None:
            classes = tuple(str(name) for name in classes)
            unknown = sorted(set(classes) - set(DIGIT_CLASSES))
            if unknown or len(set(classes)) != len(classes):
                raise ConfigError(
                    f'classes must be distinct digits among {DIGIT_CLASSES}, '
                    f'got {classes}.')
        self.split = split
        self.img_size = img_size
        self.num_per_class = num_per_class
        self.seed = seed
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        super().__init__(ann_file='', classes=classes, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(img=(S, S, 3) uint8, gt_label=int)`` per image."""
        images, targets = load_digits_split(self.split, self.test_fraction,
                                            self.split_seed)
        classes = self.metainfo['classes']
        label_of = {int(name): label for label, name in enumerate(classes)}
        rng = np.random.default_rng(self.seed)
        keep = []
        for digit in label_of:
            members = np.flatnonzero(targets == digit)
            if self.num_per_class is not None:
                if self.num_per_class > len(members):
                    raise ConfigError(
                        f'num_per_class={self.num_per_class} but the '
                        f'{self.split} split has only {len(members)} images '
                        f"of class '{digit}'.")
                members = rng.choice(
                    members, self.num_per_class, replace=False)
            keep.append(members)
        keep = np.sort(np.concatenate(keep))
        return [
            dict(
                img=to_rgb_image(images[index], self.img_size),
                gt_label=label_of[int(targets[index])]) for index in keep
        ]

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split}',
            f'Image size: \t{self.img_size}',
            f'Images per class: \t{self.num_per_class or "all"}',
        ]
