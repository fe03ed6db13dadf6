"""The distillation step exists once: every mmcatkd algorithm takes
FrozenTeacherDistill's ``loss`` (record teachers, run the student, compute
the losses) and its ``forward`` (the channels_last inputs); the variants
change only how the teacher records are filled or how the losses are
scaled."""
import inspect

import mmcatkd.models.algorithms as algorithms
from mmcatkd.models.algorithms import FrozenTeacherDistill

ALGORITHMS = [
    getattr(algorithms, name) for name in algorithms.__all__
    if inspect.isclass(getattr(algorithms, name))
]


def test_every_algorithm_takes_the_step_of_the_base():
    assert {cls.__name__ for cls in ALGORITHMS} == {
        'CAKDDistill', 'CachedCATDistill', 'CATDistill',
        'FrozenTeacherDistill', 'MultiTeacherDistill'
    }
    for cls in ALGORITHMS:
        assert issubclass(cls, FrozenTeacherDistill), cls.__name__
        assert cls.loss is FrozenTeacherDistill.loss, cls.__name__
        assert cls.forward is FrozenTeacherDistill.forward, cls.__name__
