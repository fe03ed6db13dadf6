"""What tools call: classifiers, distillation students and teachers loaded
from a config and a checkpoint."""
from .loading import build_classifier, load_classifier, load_models

__all__ = ['build_classifier', 'load_classifier', 'load_models']
