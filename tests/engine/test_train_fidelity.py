"""TrainFidelityHook and batch_fidelity: the multi-teacher study's
train-side fidelity (per training batch, averaged over the batches of an
epoch, from the authors' epoch on), against values computed by hand."""
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmcatkd.engine.hooks import TrainFidelityHook, mean_over_batches
from mmcatkd.evaluation import batch_fidelity

LOG2 = math.log(2)


def test_batch_fidelity_by_hand():
    """Two samples, two classes, one teacher. Student logits (0, 0) and
    (0, 0): p_S = (1/2, 1/2), entropy log 2. Teacher (0, 0) and (log 3, 0):
    p_T = (1/2, 1/2) and (3/4, 1/4). Top-1 (ties to class 0): all 0 -> both
    agree. KL(p_S || p_T) = 0 and 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3);
    the authors' x10 mean: 10 x 1/4 log(4/3). Teacher entropy: (log 2 + H(3/4,
    1/4)) / 2."""
    student = torch.zeros(2, 2)
    teacher = torch.tensor([[[0., 0.]], [[math.log(3), 0.]]])  # (N, T, K)
    values = batch_fidelity(student, teacher)
    h_34 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert values['top1_agreement'] == 1.0
    assert values['kl'] == pytest.approx(10 * 0.25 * math.log(4 / 3))
    assert values['student_entropy'] == pytest.approx(LOG2)
    assert values['teacher_entropy'] == pytest.approx((LOG2 + h_34) / 2)
    # one predicted class on each side: no information
    assert values['mis'] == pytest.approx(0.0)


def test_batch_fidelity_uses_the_teachers_mean_logits():
    """Teachers (2, 0) and (0, 4) average to (1, 2): class 1, which the
    student (0, 1) picks too, although it disagrees with teacher 0."""
    teacher = torch.tensor([[[2., 0.], [0., 4.]]])
    values = batch_fidelity(torch.tensor([[0., 1.]]), teacher)
    assert values['top1_agreement'] == 1.0


def test_mean_over_batches_skips_missing_mi_only():
    batches = [dict(mi=float('nan'), kl=1.0), dict(mi=0.5, kl=3.0)]
    assert mean_over_batches(batches) == dict(mi=0.5, kl=2.0)


class _Algorithm(nn.Module):
    """A student and two teachers whose heads pass their input through."""

    def __init__(self):
        super().__init__()
        self.student = nn.Module()
        self.student.head = nn.Identity()
        self.teachers = nn.ModuleList([nn.Module(), nn.Module()])
        for teacher in self.teachers:
            teacher.head = nn.Identity()


def _runner(algorithm):
    scalars = []
    return SimpleNamespace(
        model=algorithm,
        epoch=0,
        logger=SimpleNamespace(info=lambda *args: None),
        visualizer=SimpleNamespace(
            add_scalars=lambda values, step: scalars.append((step, values))),
        scalars=scalars)


def _step(hook, runner, student, teachers):
    hook.before_train_iter(runner, 0)
    runner.model.student.head(student)
    for teacher, logits in zip(runner.model.teachers, teachers):
        teacher.head(logits)
    hook.after_train_iter(runner, 0)


def test_hook_averages_the_batches_of_an_epoch_from_start_epoch():
    """Epoch 0 is before start_epoch 1: nothing is logged. In epoch 1,
    batch 1 (student agrees with the ensemble on 1 of 2 images) and batch 2
    (on its only image) log the mean of the per-batch fractions, (1/2 + 1)
    / 2 = 3/4, not the pooled 2/3, as the authors' trainer averages."""
    algorithm = _Algorithm()
    runner = _runner(algorithm)
    hook = TrainFidelityHook(start_epoch=1)
    hook.before_run(runner)
    one_hot = torch.eye(2)
    for epoch in (0, 1):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        # ensemble of (teacher a + teacher b) / 2 -> classes 0, 1
        _step(hook, runner, one_hot[[0, 0]], [one_hot[[0, 1]]] * 2)
        _step(hook, runner, one_hot[[1]], [one_hot[[1]], one_hot[[1]]])
        hook.after_train_epoch(runner)
    hook.after_run(runner)
    assert len(runner.scalars) == 1
    step, values = runner.scalars[0]
    assert step == 2
    assert values['train/fidelity/top1_agreement'] == pytest.approx(0.75)
    # heads outside training iterations are not recorded
    algorithm.student.head(one_hot)
    assert hook._student == []


def test_hook_names_the_fix_when_teacher_logits_are_missing():
    """A step where the teachers never ran their heads (CAT alone)."""
    runner = _runner(_Algorithm())
    hook = TrainFidelityHook()
    hook.before_run(runner)
    hook.before_train_iter(runner, 0)
    runner.model.student.head(torch.eye(2))
    with pytest.raises(ValueError, match='a logit loss'):
        hook.after_train_iter(runner, 0)
