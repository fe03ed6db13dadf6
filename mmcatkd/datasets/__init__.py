from .data_check import check_datasets
from .reduced_classes import ReducedClassDataset
from .sklearn_digits import DIGIT_CLASSES, SklearnDigits
from .views import ViewRandomCrop

__all__ = ['DIGIT_CLASSES', 'ReducedClassDataset', 'SklearnDigits',
           'check_datasets', 'ViewRandomCrop']
