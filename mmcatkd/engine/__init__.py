"""Training-time machinery: crash-safe checkpoints, exact resume, early and
clear failures (see ``docs/reliability.md``)."""
from . import atomic_file  # noqa: F401  (registers the 'local_atomic' backend)
from .hooks import *  # noqa: F401,F403
from .reliability import enable_reliability

__all__ = ['enable_reliability']
