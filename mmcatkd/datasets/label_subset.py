"""The frame of a data set wrapper that keeps some images by their labels.

:class:`ReducedClassDataset` (CAT-KD's reduced classes) and
:class:`LongTailedDataset` (a long-tailed cut) differ only in which images
of each class they keep; loading, indexing and ``metainfo`` are shared here.
"""
import copy
from typing import List, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmpretrain.registry import DATASETS

from ..utils.errors import ConfigTypeError


class LabelSubsetDataset:
    """Keeps the images :meth:`draw` chooses from the wrapped labels, once.

    Labels and ``metainfo`` are the wrapped data set's (all K classes).
    Subclasses set their options, then call :meth:`_init_unless_lazy`.

    Args:
        dataset (BaseDataset | dict): the wrapped data set or its config.
    """

    def __init__(self, dataset: Union[BaseDataset, dict]) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not hasattr(dataset, 'get_cat_ids'):
            raise ConfigTypeError(
                f'{type(self).__name__} wraps a data set with '
                'get_cat_ids (an MMPretrain BaseDataset), got '
                f'{type(dataset).__name__}.')
        self.dataset = dataset
        self._metainfo = dataset.metainfo
        self._fully_initialized = False

    def _init_unless_lazy(self, lazy_init: bool) -> None:
        if not lazy_init:
            self.full_init()

    def draw(self, labels: np.ndarray,
             rng: np.random.Generator) -> List[np.ndarray]:
        """The kept indices into the wrapped data set, one array per class,
        given every image's label (N,) and a generator seeded by ``seed``."""
        raise NotImplementedError

    @property
    def metainfo(self) -> dict:
        """The wrapped data set's metainfo: all K classes."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Choose the kept images (once)."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        labels = np.array([
            self.dataset.get_cat_ids(index)[0]
            for index in range(len(self.dataset))
        ])
        kept = self.draw(labels, np.random.default_rng(self.seed))
        self.indices = np.sort(np.concatenate(kept)).tolist()
        self._fully_initialized = True

    @force_full_init
    def get_data_info(self, index: int) -> dict:
        return self.dataset.get_data_info(self.indices[index])

    @force_full_init
    def get_cat_ids(self, index: int) -> List[int]:
        return self.dataset.get_cat_ids(self.indices[index])

    @force_full_init
    def get_gt_labels(self) -> np.ndarray:
        return np.array(
            [self.get_cat_ids(index)[0] for index in range(len(self))])

    @force_full_init
    def __getitem__(self, index: int) -> dict:
        return self.dataset[self.indices[index]]

    @force_full_init
    def __len__(self) -> int:
        return len(self.indices)
