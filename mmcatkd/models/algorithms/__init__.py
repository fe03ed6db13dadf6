from .cakd_distill import CAKDDistill
from .cached_cat_distill import CachedCATDistill
from .cat_distill import CATDistill, load_teacher_checkpoint
from .frozen_teacher_distill import FrozenTeacherDistill
from .multi_teacher_distill import MultiTeacherDistill  # noqa: F401

__all__ = [
    'CAKDDistill', 'CachedCATDistill', 'CATDistill', 'load_teacher_checkpoint',
    'FrozenTeacherDistill'
]
