"""The epoch schedule of a distillation loss weight (CAKD's lambda(e), DKD's
warm-up)."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ...utils.errors import ConfigError, ConfigKeyError, ConfigTypeError


@HOOKS.register_module()
class DistillLossWeightHook(Hook):
    """Sets ``distill_loss_weight`` of the algorithm before every epoch.

    lambda(e) = min(max(e - start_epoch, 0) / divisor, max_weight), with e
    the 0-based epoch. The defaults are the schedule of the authors' code
    for "Cross-Architecture Knowledge Distillation" (ACCV 2022): 0 for
    epochs 0-25, then 0.02 more per epoch until 0.2 (epoch 35 on).

    The weight lives only in the algorithm (``CAKDDistill``), which scales
    every distillation loss by it; this hook writes it and logs it as
    ``distill_loss_weight`` every iteration. With ``loss_name`` it writes the
    ``loss_weight`` of that one distillation loss instead (DKD's warm-up,
    Zhao et al., CVPR 2022: min(epoch / 20, 1) with 1-based epochs, i.e.
    ``start_epoch=-1, divisor=20, max_weight=1``). Nothing is stored: on
    resume the weight is recomputed from the epoch.

    Args:
        start_epoch (int): last epoch with weight 0. Defaults to 25.
        divisor (float): epochs over which the weight grows by 1.
            Defaults to 50.
        max_weight (float): the cap. Defaults to 0.2.
        loss_name (str, optional): a key of the distiller's
            ``distill_losses`` whose ``loss_weight`` is scheduled. Defaults
            to None (the algorithm's ``distill_loss_weight``).
    """

    priority = 'NORMAL'

    def __init__(self,
                 start_epoch: int = 25,
                 divisor: float = 50.,
                 max_weight: float = 0.2,
                 loss_name: Optional[str] = None) -> None:
        if divisor <= 0:
            raise ConfigError(f'divisor must be positive, got {divisor}.')
        self.start_epoch = start_epoch
        self.divisor = divisor
        self.max_weight = max_weight
        self.loss_name = loss_name

    def weight(self, epoch: int) -> float:
        """lambda(epoch)."""
        return min(
            max(epoch - self.start_epoch, 0) / self.divisor, self.max_weight)

    def _target(self, runner):
        """The object whose weight attribute is scheduled, and its name."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if self.loss_name is not None:
            losses = getattr(
                getattr(model, 'distiller', None), 'distill_losses', {})
            if self.loss_name not in losses:
                raise ConfigKeyError(
                    f'DistillLossWeightHook: the distiller has no loss '
                    f'{self.loss_name!r}; give one of {sorted(losses)}.')
            return losses[self.loss_name], 'loss_weight'
        if not hasattr(model, 'distill_loss_weight'):
            raise ConfigTypeError(
                f'{type(model).__name__} has no `distill_loss_weight`: '
                'DistillLossWeightHook schedules the weight of an algorithm '
                'that scales its distillation losses by it (CAKDDistill), '
                'or with loss_name the loss_weight of one distillation '
                'loss.')
        return model, 'distill_loss_weight'

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise ConfigTypeError(
                'DistillLossWeightHook follows epochs: train with '
                'train_cfg=dict(by_epoch=True, ...).')
        self._target(runner)

    def before_train_epoch(self, runner) -> None:
        setattr(*self._target(runner), self.weight(runner.epoch))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        name = 'distill_loss_weight' if self.loss_name is None else \
            f'{self.loss_name}_weight'
        runner.message_hub.update_scalar(f'train/{name}',
                                         getattr(*self._target(runner)))
