"""Fidelity of the student to its teachers over the training batches.

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", ESWA 2025, https://arxiv.org/abs/2405.00739: the
train-side fidelity, KL, mutual information and entropy the authors' trainer
(zisci2/RethinkKD ``trainer.py``, ``my_train``) accumulates while it trains,
from epoch ``lr_steps[0] - 1`` on.
"""
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...evaluation.metrics.fidelity import batch_fidelity
from ...utils.errors import ConfigError


def mean_over_batches(batches: List[Dict[str, float]]) -> Dict[str, float]:
    """Each measure's mean over the batches, as the authors' ``results_dict
    / batch_count``; ``mi`` over the batches that have an estimate."""
    means = {}
    for name in batches[0]:
        values = [
            batch[name] for batch in batches
            if not (name == 'mi' and np.isnan(batch[name]))
        ]
        means[name] = float(np.mean(values)) if values else float('nan')
    return means


@HOOKS.register_module()
class TrainFidelityHook(Hook):
    """Logs ``train/fidelity/*`` each epoch from ``start_epoch`` on.

    The logits are the ones the training step computes: the student's in
    train mode (dropout, batch statistics) on the training batch, and each
    teacher's on the same batch in its ``teacher_mode``. Forward hooks on
    the heads of the student and of every teacher pick them up during the
    training iterations only. Per batch, :func:`batch_fidelity` measures the
    student against the teachers' ensemble (mean logits); an epoch reports
    each measure's mean over its batches, as the authors' trainer does.
    The values go to the log and to the visualizer's scalars (step = epoch).

    Args:
        start_epoch (int): the first (0-based) epoch measured; the authors
            measure from ``lr_steps[0] - 1``, the epoch of the first lr
            drop in our configs. Defaults to 0.
    """

    priority = 'LOW'

    def __init__(self, start_epoch: int = 0) -> None:
        if isinstance(
                start_epoch,
                bool) or not isinstance(start_epoch, int) or start_epoch < 0:
            raise ConfigError('TrainFidelityHook start_epoch must be an '
                              f'epoch index >= 0, got {start_epoch!r}.')
        self.start_epoch = start_epoch
        self._recording = False
        self._student: List[torch.Tensor] = []
        self._teachers: List[torch.Tensor] = []
        self._batches: List[Dict[str, float]] = []
        self._handles = []

    def before_run(self, runner) -> None:
        model = runner.model
        algorithm = model.module if is_model_wrapper(model) else model
        teachers = getattr(algorithm, 'teachers', None)
        if teachers is None and hasattr(algorithm, 'teacher'):
            teachers = [algorithm.teacher]
        if not teachers or not hasattr(algorithm, 'student'):
            raise ConfigError(
                'TrainFidelityHook needs a distillation model with a '
                '`student` and `teacher` or `teachers`: remove the hook '
                'for other models.')
        self._handles = [
            algorithm.student.head.register_forward_hook(
                self._keep(self._student))
        ] + [
            teacher.head.register_forward_hook(self._keep(self._teachers))
            for teacher in teachers
        ]
        self._num_teachers = len(teachers)

    def _keep(self, store: List[torch.Tensor]):

        def hook(module, args, output):
            if self._recording:
                store.append(output.detach())

        return hook

    def before_train_epoch(self, runner) -> None:
        self._batches = []

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self._recording = runner.epoch >= self.start_epoch
        self._student.clear()
        self._teachers.clear()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self._recording:
            return
        self._recording = False
        if len(self._student) != 1 or len(
                self._teachers) != self._num_teachers:
            raise ConfigError(
                'TrainFidelityHook needs the logits of the student and of '
                'every teacher in each training step, got '
                f'{len(self._student)} student and {len(self._teachers)} '
                f'teacher head outputs: the teachers must run their heads '
                '(a logit loss such as KD; CAT alone stops at the backbone).')
        self._batches.append(
            batch_fidelity(self._student[0],
                           torch.stack(self._teachers, dim=1)))
        self._student.clear()
        self._teachers.clear()

    def after_train_epoch(self, runner) -> None:
        if not self._batches:
            return
        scalars = {
            f'train/fidelity/{name}': value
            for name, value in mean_over_batches(self._batches).items()
        }
        runner.logger.info(
            'Epoch(train) [%d] %s', runner.epoch + 1,
            '  '.join(f'{name}: {value:.4f}'
                      for name, value in scalars.items()))
        runner.visualizer.add_scalars(scalars, step=runner.epoch + 1)
        self._batches = []

    def after_run(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
