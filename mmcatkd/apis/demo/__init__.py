"""``tools/demo.py``: a CAT-KD experiment on scikit-learn's digits.

- :mod:`.stages`: the five runs and their configs;
- :mod:`.teacher_reuse`: when a saved teacher is reused or replaced;
- :mod:`.teacher_cams`: the teacher-CAM cache and what it saves;
- :mod:`.runs`: the stages in order, the CAM figure and the results.
"""
from .runs import run_demo
from .stages import (QUICK_ITERS, QUICK_TEST_IMAGES, STAGES, Stage,
                     load_stage_config)
from .teacher_cams import prepare_teacher_cams, teacher_cams_saving
from .teacher_reuse import (TEACHER_CKPT, TEACHER_RECORD, check_quick_work_dir,
                            reusable_teacher, teacher_settings)

__all__ = [
    'run_demo', 'QUICK_ITERS', 'QUICK_TEST_IMAGES', 'STAGES', 'Stage',
    'load_stage_config', 'prepare_teacher_cams', 'teacher_cams_saving',
    'TEACHER_CKPT', 'TEACHER_RECORD', 'check_quick_work_dir',
    'reusable_teacher', 'teacher_settings'
]
