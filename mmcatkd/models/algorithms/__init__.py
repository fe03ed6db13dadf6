from .cakd_distill import CAKDDistill
from .cached_cat_distill import CachedCATDistill
from .cat_distill import CATDistill
from .frozen_teacher_distill import FrozenTeacherDistill
from .multi_teacher_distill import MultiTeacherDistill
from .teacher import load_teacher_checkpoint

__all__ = [
    'CAKDDistill', 'CachedCATDistill', 'CATDistill', 'FrozenTeacherDistill',
    'MultiTeacherDistill', 'load_teacher_checkpoint'
]
