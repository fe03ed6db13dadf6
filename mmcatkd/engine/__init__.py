"""Training-time machinery: crash-safe checkpoints, exact resume, early and
clear failures (see ``docs/reliability.md``)."""
# registers the 'local_atomic' backend
from ..utils import atomic_file  # noqa: F401
from .augmented_val_loop import AugmentedValLoop
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .raw_and_ema_val_loop import RawAndEMAValLoop
from .reliability import enable_reliability
from .timm_cosine_lr import TimmCosineLR, timm_cosine_lr

__all__ = [
    'AugmentedValLoop', 'RawAndEMAValLoop', 'TimmCosineLR',
    'enable_reliability', 'timm_cosine_lr'
]
