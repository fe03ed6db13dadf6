"""The distillation step exists once: every mmcatkd algorithm takes
FrozenTeacherDistill's ``loss`` (record teachers, run the student, compute
the losses) and its ``forward`` (the channels_last inputs); the variants
change only how the teacher records are filled or how the losses are
scaled."""
from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.registry import MODELS

from mmcatkd.models.algorithms import FrozenTeacherDistill

#: every algorithm mmcatkd registers (the cached one lives with its cache)
ALGORITHMS = [
    cls for cls in MODELS.module_dict.values() if
    cls.__module__.startswith('mmcatkd.') and issubclass(cls, BaseAlgorithm)
]


def test_every_algorithm_takes_the_step_of_the_base():
    assert {cls.__name__
            for cls in ALGORITHMS} == {
                'CAKDDistill', 'CachedCATDistill', 'CATDistill',
                'FrozenTeacherDistill', 'MultiTeacherDistill'
            }
    for cls in ALGORITHMS:
        assert issubclass(cls, FrozenTeacherDistill), cls.__name__
        assert cls.loss is FrozenTeacherDistill.loss, cls.__name__
        assert cls.forward is FrozenTeacherDistill.forward, cls.__name__
