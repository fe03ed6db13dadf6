"""timm's per-epoch cosine schedule with warm-up, as DeiT-based codes step
it."""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF
from mmengine.registry import PARAM_SCHEDULERS

from ..utils.errors import ConfigError
from ..utils.mmengine_private import ParamSchedulerBase


def timm_cosine_lr(t: int, base_lr: float, t_initial: int, lr_min: float,
                   warmup_t: int, warmup_lr_init: float) -> float:
    """timm's ``CosineLRScheduler`` (one cycle, ``warmup_prefix=False``) at
    step ``t``: a cosine from ``base_lr`` at 0 to ``lr_min`` at ``t_initial``
    whose first ``warmup_t`` values a linear warm-up from ``warmup_lr_init``
    overrides (the cosine is not shifted by the warm-up); ``lr_min`` after.
    ``t < 0`` is the value the scheduler sets when created,
    ``warmup_lr_init``."""
    if t < 0:
        return warmup_lr_init
    if t < warmup_t:
        return warmup_lr_init + t * (base_lr - warmup_lr_init) / warmup_t
    if t >= t_initial:
        return lr_min
    return lr_min + 0.5 * (base_lr -
                           lr_min) * (1 + math.cos(math.pi * t / t_initial))


@PARAM_SCHEDULERS.register_module()
class TimmCosineLR(LRSchedulerMixin, ParamSchedulerBase):
    """The learning rate of DeiT's training loop, epoch by epoch.

    [CLS]-KD (Kang et al., Knowledge-Based Systems 2024) trains with DeiT's
    ``main.py``: timm's ``CosineLRScheduler(t_initial=300, lr_min=1e-5,
    warmup_t=5, warmup_lr_init=1e-6)``, stepped with ``step(epoch)`` *after*
    each epoch. So epoch ``e`` trains at the schedule's value for ``e - 1``
    (``lag_one_epoch=True``): epochs 0 and 1 at ``warmup_lr_init``, epoch 5
    at the last warm-up value, epoch 6 at the cosine's value for epoch 5.
    The values are computed in closed form (:func:`timm_cosine_lr`), so no
    other scheduler should run alongside.

    Args:
        optimizer: the optimizer (wrapper).
        t_initial (int): epochs the cosine spans. Defaults to 300.
        lr_min (float): the final lr. Defaults to 1e-5.
        warmup_t (int): warm-up epochs. Defaults to 5.
        warmup_lr_init (float): the warm-up's first lr. Defaults to 1e-6.
        lag_one_epoch (bool): epoch ``e`` trains at the value for ``e - 1``,
            as DeiT's loop steps the scheduler. Defaults to True.
        begin, end, last_step, by_epoch, verbose: as MMEngine's schedulers;
            ``by_epoch`` must stay True (timm steps once per epoch here).
    """

    def __init__(self,
                 optimizer,
                 t_initial: int = 300,
                 lr_min: float = 1e-5,
                 warmup_t: int = 5,
                 warmup_lr_init: float = 1e-6,
                 lag_one_epoch: bool = True,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        if not by_epoch:
            raise ConfigError(
                'TimmCosineLR steps once per epoch, as timm does '
                'for DeiT: set by_epoch=True and leave out '
                'convert_to_iter_based.')
        self.t_initial = t_initial
        self.lr_min = lr_min
        self.warmup_t = warmup_t
        self.warmup_lr_init = warmup_lr_init
        self.lag_one_epoch = lag_one_epoch
        super().__init__(  # LRSchedulerMixin passes param_name='lr'
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    def current_values(self) -> list:
        t = self.last_step - int(self.lag_one_epoch)
        return [
            timm_cosine_lr(t, base_lr, self.t_initial, self.lr_min,
                           self.warmup_t, self.warmup_lr_init)
            for base_lr in self.base_values
        ]
