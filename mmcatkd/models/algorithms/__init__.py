from .cat_distill import CATDistill, load_teacher_checkpoint

__all__ = ['CATDistill', 'load_teacher_checkpoint']
