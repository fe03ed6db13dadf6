"""Long-tailed subsets of balanced data sets (e.g. CIFAR-100-LT).

The multi-teacher study (Guo et al., "Why does Knowledge Distillation Work?
Rethink its Attention and Fidelity Mechanism", ESWA 2025,
https://arxiv.org/abs/2405.00739) also trains on long-tailed CIFAR-100 with
imbalance factor 100, the exponential profile of Cao et al. (LDAM, NeurIPS
2019): class i keeps n_i = floor(n_max * imbalance^(-i / (K - 1))) images,
500 down to 5 for CIFAR-100 (10,847 in all, the count of the authors'
``CIFAR100_train_imb100.txt``).
"""
from typing import List, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from ..utils.errors import ConfigError
from .label_subset import LabelSubsetDataset


def long_tailed_counts(n_max: int, num_classes: int,
                       imbalance: float) -> List[int]:
    """Images kept per class: ``floor(n_max * imbalance ** (-i / (K - 1)))``
    for class i = 0..K-1 (class 0 keeps ``n_max``, class K-1
    ``n_max / imbalance``)."""
    if num_classes < 2:
        raise ConfigError('a long-tailed profile needs at least 2 classes, '
                          f'got {num_classes}.')
    return [
        int(n_max * imbalance**(-index / (num_classes - 1)))
        for index in range(num_classes)
    ]


@DATASETS.register_module()
class LongTailedDataset(LabelSubsetDataset):
    """A balanced data set cut to an exponential long-tailed profile.

    Class i (in label order) keeps :func:`long_tailed_counts` images, where
    ``n_max`` is the size of the largest class; which images is a draw with
    ``seed`` (the authors ship a fixed list; Cao et al. draw with a seeded
    shuffle). Labels and ``metainfo`` are unchanged. Evaluate on the
    balanced test split, as the paper does.

    Args:
        dataset (BaseDataset | dict): the balanced training set or its config.
        imbalance_factor (float): n_max / n_min, > 1. Defaults to 100.
        seed (int): seed of the draw. Defaults to 0.
        lazy_init (bool): defer loading as MMEngine's wrappers do.
            Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 imbalance_factor: float = 100,
                 seed: int = 0,
                 lazy_init: bool = False) -> None:
        if isinstance(imbalance_factor, bool) or not (
                isinstance(imbalance_factor, (int, float))
                and imbalance_factor > 1):
            raise ConfigError('imbalance_factor must be a number > 1 '
                              f'(n_max / n_min), got {imbalance_factor!r}.')
        super().__init__(dataset)
        self.imbalance_factor = imbalance_factor
        self.seed = seed
        self._init_unless_lazy(lazy_init)

    def draw(self, labels: np.ndarray,
             rng: np.random.Generator) -> List[np.ndarray]:
        """Class i keeps :func:`long_tailed_counts` images."""
        num_classes = len(self.metainfo['classes'])
        members = [np.flatnonzero(labels == label)
                   for label in range(num_classes)]
        counts = long_tailed_counts(
            max(len(m) for m in members), num_classes, self.imbalance_factor)
        kept = []
        for label, (images, count) in enumerate(zip(members, counts)):
            if len(images) < count:
                raise ConfigError(
                    f'class {label} has {len(images)} images but the '
                    f'long-tailed profile keeps {count}: wrap a balanced '
                    'data set.')
            kept.append(rng.choice(images, count, replace=False))
        return kept
