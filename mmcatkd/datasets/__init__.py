from .data_check import check_datasets
from .long_tailed import LongTailedDataset, long_tailed_counts
from .reduced_classes import ReducedClassDataset
from .sklearn_digits import DIGIT_CLASSES, SklearnDigits

__all__ = [
    'DIGIT_CLASSES', 'LongTailedDataset', 'ReducedClassDataset',
    'SklearnDigits', 'check_datasets', 'long_tailed_counts'
]
