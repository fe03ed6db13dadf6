"""Training on a reduced set of classes (CAT-KD, Sec. 4.2, Fig. 4-right).

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777. The paper trains a student by
CAT alone on some classes of CIFAR-100 and tests it on the classes it never
saw; the authors' options are REDUCTION, RESERVED_CLASS_NUM and
RESERVED_RATE.
"""
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS

from ..utils.errors import ConfigError
from .label_subset import LabelSubsetDataset


def resolve_classes(classes: Optional[Sequence[Union[int, str]]],
                    num_classes: Optional[int],
                    all_classes: Sequence[str]) -> List[int]:
    """The sorted label indices named by ``classes`` or the first ``n``.

    Args:
        classes (Sequence[int | str], optional): label indices or class
            names (as in the dataset's ``metainfo['classes']``).
        num_classes (int, optional): keep labels ``0..n-1`` instead.
        all_classes (Sequence[str]): the dataset's class names.
    """
    if (classes is None) == (num_classes is None):
        raise ConfigError('give exactly one of classes (a list of labels or '
                          'names) and num_classes (keep the first n), got '
                          f'classes={classes!r}, num_classes={num_classes!r}.')
    total = len(all_classes)
    if num_classes is not None:
        if (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                or not 1 <= num_classes <= total):
            raise ConfigError(f'num_classes must be an integer in 1..{total}, '
                              f'got {num_classes!r}.')
        return list(range(num_classes))
    names = [str(name) for name in all_classes]
    labels = []
    for item in classes:
        if isinstance(item, str):
            if item not in names:
                raise ConfigError(f'class {item!r} is not one of the '
                                  f'dataset\'s classes {names[:10]}...')
            labels.append(names.index(item))
        elif isinstance(item, (int, np.integer)) and 0 <= item < total:
            labels.append(int(item))
        else:
            raise ConfigError(
                f'class labels must be integers in 0..{total - 1}'
                f' or class names, got {item!r}.')
    if not labels or len(set(labels)) != len(labels):
        raise ConfigError(f'classes must be a non-empty list of distinct '
                          f'classes, got {list(classes)!r}.')
    return sorted(labels)


@DATASETS.register_module()
class ReducedClassDataset(LabelSubsetDataset):
    """A data set restricted to some classes and a fraction of their images.

    Keeps the images of the given classes (or of the first ``num_classes``)
    and, of each kept class, ``round(rate * n_class)`` images (at least one)
    drawn at random with ``seed``. The authors' code keeps the first images
    in the data set's order instead; a seeded draw does not depend on how
    the files happen to be sorted. Labels and ``metainfo['classes']`` are
    unchanged: the model keeps all K outputs, and the absent classes are the
    "unseen" ones of :class:`mmcatkd.evaluation.UnseenClassAccuracy`.

    Args:
        dataset (BaseDataset | dict): the data set to reduce, or its config.
        classes (Sequence[int | str], optional): the classes to keep, as
            labels or names. Defaults to None.
        num_classes (int, optional): keep the classes ``0..n-1`` (the
            authors' RESERVED_CLASS_NUM). Give this or ``classes``.
        rate (float): share of each kept class's images, in (0, 1] (the
            authors' RESERVED_RATE). Defaults to 1.0.
        seed (int): seed of the draw. Defaults to 0.
        lazy_init (bool): defer loading as MMEngine's wrappers do.
            Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 classes: Optional[Sequence[Union[int, str]]] = None,
                 num_classes: Optional[int] = None,
                 rate: float = 1.0,
                 seed: int = 0,
                 lazy_init: bool = False) -> None:
        super().__init__(dataset)
        if isinstance(
                rate,
                bool) or not (isinstance(rate,
                                         (int, float)) and 0 < rate <= 1):
            raise ConfigError(
                f'rate must be a number in (0, 1], got {rate!r}.')
        self.kept_classes = resolve_classes(classes, num_classes,
                                            self._metainfo['classes'])
        self.rate = rate
        self.seed = seed
        self._init_unless_lazy(lazy_init)

    def draw(self, labels: np.ndarray,
             rng: np.random.Generator) -> List[np.ndarray]:
        """Of each kept class, ``round(rate * n_class)`` images (>= 1)."""
        kept = []
        for label in self.kept_classes:
            members = np.flatnonzero(labels == label)
            if len(members) == 0:
                raise ConfigError(f'class {label} has no images in the '
                                  'wrapped data set.')
            count = max(1, int(round(self.rate * len(members))))
            kept.append(rng.choice(members, count, replace=False))
        return kept

    def __repr__(self) -> str:
        return (f'ReducedClassDataset({len(self)} of {len(self.dataset)} '
                f'images, classes {self.kept_classes}, rate {self.rate}, '
                f'seed {self.seed})')
