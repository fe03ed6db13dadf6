from .sklearn_digits import DIGIT_CLASSES, SklearnDigits

__all__ = ['DIGIT_CLASSES', 'SklearnDigits']
