"""Long-tailed subsets of balanced data sets (e.g. CIFAR-100-LT).

The multi-teacher study (Guo et al., "Why does Knowledge Distillation Work?
Rethink its Attention and Fidelity Mechanism", ESWA 2025,
https://arxiv.org/abs/2405.00739) also trains on long-tailed CIFAR-100 with
imbalance factor 100, the exponential profile of Cao et al. (LDAM, NeurIPS
2019): class i keeps n_i = floor(n_max * imbalance^(-i / (K - 1))) images,
500 down to 5 for CIFAR-100 (10,847 in all, the count of the authors'
``CIFAR100_train_imb100.txt``).
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get, join_path
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


def cifar_file_names(dataset: BaseDataset) -> List[str]:
    """The image file names CIFAR's pickles list (``filenames``), in the
    order of an MMPretrain ``CIFAR10`` / ``CIFAR100`` data set's images."""
    if not all(
            hasattr(dataset, name) for name in ('base_folder', 'train_list',
                                                'test_list', 'data_prefix')):
        raise ConfigError(
            'a subset_file names CIFAR images by file name, which only '
            'CIFAR10 / CIFAR100 data sets know: wrap one of them, or leave '
            f'subset_file out (got {type(dataset).__name__}).')
    files = (
        dataset.train_list if dataset.split == 'train' else dataset.test_list)
    names = []
    for file_name, _ in files:
        path = join_path(dataset.data_prefix['root'], dataset.base_folder,
                         file_name)
        names += pickle.loads(get(path), encoding='latin1')['filenames']
    return names


def read_subset_file(path: str) -> List[Tuple[str, int]]:
    """(file name, label) of each line ``<split>/<label>/<name> <label>``
    of a list such as the authors' ``CIFAR100_train_imb100.txt``."""
    if not osp.isfile(path):
        raise ConfigError(f'subset_file {path} does not exist: download the '
                          'list (see docs/multiteacher.md) or give its path.')
    entries = []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[1].isdigit():
                raise ConfigError(
                    f'{path}, line {number}: expected "<path> <label>", '
                    f'got {line.strip()!r}.')
            entries.append((osp.basename(fields[0]), int(fields[1])))
    return entries


@DATASETS.register_module()
class LongTailedDataset(LabelSubsetDataset):
    """A balanced data set cut to an exponential long-tailed profile.

    Class i (in label order) keeps :func:`long_tailed_counts` images, where
    ``n_max`` is the size of the largest class; which images is a draw with
    ``seed``, or the images a ``subset_file`` names. Labels and
    ``metainfo`` are unchanged. Evaluate on the balanced test split, as the
    paper does.

    The authors of the multi-teacher study ship a fixed list
    (zisci2/RethinkKD ``data_txt/cifar100/CIFAR100_train_imb100.txt``); its
    per-class counts are this profile's. Given as ``subset_file``, its lines
    ``train/<label>/<file name> <label>`` select the images of a wrapped
    CIFAR data set by the file names CIFAR's pickles list; each label and
    the per-class counts are checked against the profile.

    Args:
        dataset (BaseDataset | dict): the balanced training set or its config.
        imbalance_factor (float): n_max / n_min, > 1. Defaults to 100.
        seed (int): seed of the draw. Defaults to 0.
        subset_file (str, optional): a list of the images to keep, as the
            authors'. Defaults to None (the seeded draw).
        lazy_init (bool): defer loading as MMEngine's wrappers do.
            Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 imbalance_factor: float = 100,
                 seed: int = 0,
                 subset_file: Optional[str] = None,
                 lazy_init: bool = False) -> None:
        if isinstance(imbalance_factor,
                      bool) or not (isinstance(imbalance_factor, (int, float))
                                    and imbalance_factor > 1):
            raise ConfigError('imbalance_factor must be a number > 1 '
                              f'(n_max / n_min), got {imbalance_factor!r}.')
        super().__init__(dataset)
        self.imbalance_factor = imbalance_factor
        self.seed = seed
        self.subset_file = subset_file
        self._init_unless_lazy(lazy_init)

    def draw(self, labels: np.ndarray,
             rng: np.random.Generator) -> List[np.ndarray]:
        """Class i keeps :func:`long_tailed_counts` images."""
        num_classes = len(self.metainfo['classes'])
        members = [
            np.flatnonzero(labels == label) for label in range(num_classes)
        ]
        counts = long_tailed_counts(
            max(len(m) for m in members), num_classes, self.imbalance_factor)
        if self.subset_file is not None:
            return self._listed(labels, counts)
        kept = []
        for label, (images, count) in enumerate(zip(members, counts)):
            if len(images) < count:
                raise ConfigError(
                    f'class {label} has {len(images)} images but the '
                    f'long-tailed profile keeps {count}: wrap a balanced '
                    'data set.')
            kept.append(rng.choice(images, count, replace=False))
        return kept

    def _listed(self, labels: np.ndarray,
                counts: List[int]) -> List[np.ndarray]:
        """The images ``subset_file`` names, one array per class, checked
        against their labels and the profile's counts."""
        position: Dict[Tuple[str, int], int] = {}
        for index, name in enumerate(cifar_file_names(self.dataset)):
            position.setdefault((name, int(labels[index])), index)
        kept = [[] for _ in counts]
        for name, label in read_subset_file(self.subset_file):
            if (name, label) not in position:
                raise ConfigError(
                    f'{self.subset_file} names {name} with label {label}, '
                    'which the wrapped data set does not have: wrap the '
                    'split the list was made from.')
            kept[label].append(position[(name, label)])
        listed = [len(indices) for indices in kept]
        if listed != counts:
            label = next(index
                         for index, (a, b) in enumerate(zip(listed, counts))
                         if a != b)
            raise ConfigError(
                f'{self.subset_file} keeps {listed[label]} images of class '
                f'{label}, the profile of imbalance_factor='
                f'{self.imbalance_factor} {counts[label]}: give the list '
                'of this imbalance factor.')
        return [np.array(indices, dtype=int) for indices in kept]
