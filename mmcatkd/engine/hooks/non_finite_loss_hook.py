"""Stop training at the first NaN/Inf loss, before it reaches a checkpoint."""
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...utils.errors import UserError


class NonFiniteLossError(UserError, FloatingPointError):
    """A loss term or a weight to be saved is NaN or infinite."""


def _as_float(value) -> Optional[float]:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, (int, float)):
        return float(value)
    return None


# ResumeCheckHook applies a learning rate changed on --resume, so this works.
RESUME_HINT = ('resume from the last checkpoint with a lower learning rate '
               '(--resume --cfg-options optim_wrapper.optimizer.lr=...) or '
               'loss_weight.')


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when training stops being finite.

    - after every training iteration, every scalar the model returned (the
      loss terms: ``student.loss``, ``distill.loss_cat``, ..., and ``loss``)
      is checked; the error names the non-finite terms and the iteration.
      Priority ``HIGHEST``: the check runs before the checkpoint and logger
      hooks of that iteration, so the bad state is never saved;
    - before a checkpoint is written, every floating-point tensor of its
      ``state_dict`` is checked, which also catches weights that a finite
      loss with an infinite gradient has already broken.

    The run then ends with that error, and ``last_checkpoint`` still names
    the last good checkpoint, from which ``--resume`` continues (with a lower
    learning rate, say). A NaN/Inf in the loss of one rank stops that rank;
    its NaN gradients reach the others through the all-reduce, whose next
    loss or checkpoint check then stops them too.
    """

    priority = 'HIGHEST'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        bad = {
            name: number
            for name, number in ((name, _as_float(value))
                                 for name, value in (outputs or {}).items())
            if number is not None and not math.isfinite(number)
        }
        if bad:
            terms = ', '.join(f'{name}={number}'
                              for name, number in bad.items())
            raise NonFiniteLossError(
                f'non-finite loss at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): {terms}; training stopped before any '
                f'checkpoint of this state was written; {RESUME_HINT}')

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        broken = [
            name for name, tensor in checkpoint['state_dict'].items()
            if tensor.is_floating_point() and not torch.isfinite(tensor).all()
        ]
        if broken:
            raise NonFiniteLossError(
                f'{len(broken)} weights are NaN or infinite ({broken[:3]}) '
                f'after iteration {runner.iter}: the checkpoint was not '
                f'written; {RESUME_HINT}')
