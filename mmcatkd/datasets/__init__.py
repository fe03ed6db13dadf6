from .data_check import check_datasets
from .sklearn_digits import DIGIT_CLASSES, SklearnDigits

__all__ = ['DIGIT_CLASSES', 'SklearnDigits', 'check_datasets']
