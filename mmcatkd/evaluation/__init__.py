"""Metrics of the attention and fidelity analysis (MMPretrain METRICS)."""
from .metrics import *  # noqa: F401,F403
