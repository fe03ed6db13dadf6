from .cakd_distill import CAKDDistill
from .cat_distill import CATDistill
from .frozen_teacher_distill import FrozenTeacherDistill
from .multi_teacher_distill import MultiTeacherDistill
from .teacher import load_teacher_checkpoint

__all__ = [
    'CAKDDistill', 'CATDistill', 'FrozenTeacherDistill', 'MultiTeacherDistill',
    'load_teacher_checkpoint'
]
