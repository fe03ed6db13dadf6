"""beta by the CAT-KD authors' rule, chosen once at the start of training.

Guo et al., "Class Attention Transfer Based Knowledge Distillation", CVPR
2023, https://arxiv.org/abs/2304.12777. The authors' README asks users to
tune beta so that the weighted CAT loss stays "within a reasonable range
(maybe 1~50 after the first epoch)"; :class:`AutoBeta` applies that rule
instead of a person.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.logging import print_log

from ...utils.errors import ConfigError, MissingHookError

# The geometric middle of the authors' 1-50 range: a factor ~7 from each end.
DEFAULT_TARGET = math.sqrt(50.)


class AutoBeta(nn.Module):
    """The weight of a loss, fixed after a measuring window to hit a target.

    During the first ``window`` training forwards (iterations) it records
    the unweighted loss ``L_t`` (averaged over processes under DDP). When the
    window ends, ``beta = target / mean(L_t)`` over the window's second half
    (the loss "after the first epoch" of the rule: the first half still
    carries the fresh student's large values), and never changes again.

    Weight during the window: ``target / mean(L_1..L_t)``, the running
    estimate of the final beta (detached). The weighted loss then starts at
    the target and stays near it, the scale the rule asks for, so both
    CAT-KD and CAT alone train from the first step: a weight of 0 would
    leave a CAT-alone student untouched for the window, a weight of 1 would
    scale the first steps by whatever the raw loss happens to be (0.01 or
    1e4 depending on the pair).

    State (the chosen beta, the window and its sums) lives in buffers, so
    checkpoints store it and a resumed run continues with the same beta,
    or mid-window with the same measurements. Values are float64.

    Args:
        target (float): what ``beta * L`` should be after the window.
            Defaults to sqrt(50), the geometric middle of 1-50.
        window (int, optional): iterations of the window. Defaults to None:
            set by ``CATAutoBetaHook`` (``mmcatkd/engine/hooks``) to one
            epoch before training.
    """

    def __init__(self,
                 target: float = DEFAULT_TARGET,
                 window: Optional[int] = None) -> None:
        super().__init__()
        if (isinstance(target, bool) or not isinstance(target, (int, float))
                or not 0 < target < float('inf')):
            raise ConfigError(
                f'auto_target must be a finite number > 0, got {target!r}.')
        self.target = float(target)
        self.register_buffer('window', torch.tensor(0, dtype=torch.int64))
        self.register_buffer('steps', torch.tensor(0, dtype=torch.int64))
        self.register_buffer('window_sum',
                             torch.tensor(0., dtype=torch.float64))
        self.register_buffer('late_sum', torch.tensor(0., dtype=torch.float64))
        self.register_buffer('beta', torch.tensor(0., dtype=torch.float64))
        if window is not None:
            self.set_window(window)
        # Python copies, so that a chosen beta costs no device sync per step.
        self._chosen = False
        self._window = self.window.item()
        self.register_load_state_dict_post_hook(
            lambda module, _: module._sync_python_state())

    def set_window(self, window: int) -> None:
        """Set the window length (iterations) before it starts."""
        if isinstance(window,
                      bool) or not isinstance(window, int) or window < 1:
            raise ConfigError(
                f'auto_iters must be an integer >= 1, got {window!r}.')
        if self.steps.item() > 0:
            raise RuntimeError('the auto-beta window has already started.')
        self.window.fill_(window)
        self._window = window

    def _sync_python_state(self) -> None:
        self._window = self.window.item()
        self._chosen = self._window > 0 and self.steps.item() >= self._window

    @property
    def chosen(self) -> bool:
        """Whether the window is over and ``beta`` is fixed."""
        return self._chosen

    @property
    def measured(self) -> float:
        """mean unweighted loss over the window's second half (once chosen)."""
        return self.target / self.beta.item() if self._chosen else math.nan

    def forward(self, loss: torch.Tensor) -> torch.Tensor:
        """The weight for the unweighted scalar ``loss`` of this step."""
        if self._chosen:
            return self.beta
        if not self.training:  # evaluation does not measure
            return self._running_weight(loss)
        if self._window == 0:
            raise MissingHookError(
                "loss_weight='auto' needs its measuring window: set "
                'auto_iters=N (iterations) next to it in the loss config, or '
                "add dict(type='CATAutoBetaHook') to custom_hooks (one "
                'epoch).')
        value = loss.detach().to(torch.float64).clone()
        all_reduce(value, op='mean')
        step = self.steps.item()
        self.steps += 1
        self.window_sum += value
        if step >= self._window // 2:
            self.late_sum += value
        weight = self._running_weight(loss)
        if step + 1 == self._window:
            late_steps = self._window - self._window // 2
            if not self.late_sum.item() > 0:
                raise ConfigError(
                    'the loss was 0 throughout the auto-beta window, so no '
                    'beta scales it to the target: check that teacher and '
                    'student differ, or give loss_weight a number.')
            self.beta.fill_(self.target * late_steps / self.late_sum.item())
            self._chosen = True
            print_log(
                f'auto beta: {self.beta.item():.6g} (target {self.target:.4g} '
                f'/ mean unweighted loss {self.measured:.6g} over iterations '
                f'{self._window // 2 + 1}-{self._window} of the '
                f'{self._window}-iteration window), fixed from now on.',
                logger='current')
        return weight

    def _running_weight(self, loss: torch.Tensor) -> torch.Tensor:
        steps = self.steps.item()
        mean = (self.window_sum / steps) if steps else loss.detach().double()
        return self.target / mean.clamp_min(torch.finfo(torch.float64).tiny)

    def extra_repr(self) -> str:
        return (f'target={self.target:.4g}, window={self._window}, '
                f'chosen={self._chosen}')
