"""Metrics of the attention and fidelity analysis (MMPretrain METRICS)."""
from .metrics import *  # noqa: F401,F403
from .unseen_class_metric import UnseenClassAccuracy  # noqa: F401
