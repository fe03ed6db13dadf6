"""The epoch schedule of the distillation loss weight (CAKD's lambda(e))."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop


@HOOKS.register_module()
class DistillLossWeightHook(Hook):
    """Sets ``distill_loss_weight`` of the algorithm before every epoch.

    lambda(e) = min(max(e - start_epoch, 0) / divisor, max_weight), with e
    the 0-based epoch. The defaults are the schedule of the authors' code
    for "Cross-Architecture Knowledge Distillation" (ACCV 2022): 0 for
    epochs 0-25, then 0.02 more per epoch until 0.2 (epoch 35 on).

    The weight lives only in the algorithm (``CAKDDistill``), which scales
    every distillation loss by it; this hook writes it and logs it as
    ``distill_loss_weight`` every iteration. Nothing is stored: on resume the
    weight is recomputed from the epoch.

    Args:
        start_epoch (int): last epoch with weight 0. Defaults to 25.
        divisor (float): epochs over which the weight grows by 1.
            Defaults to 50.
        max_weight (float): the cap. Defaults to 0.2.
    """

    priority = 'NORMAL'

    def __init__(self,
                 start_epoch: int = 25,
                 divisor: float = 50.,
                 max_weight: float = 0.2) -> None:
        if divisor <= 0:
            raise ValueError(f'divisor must be positive, got {divisor}.')
        self.start_epoch = start_epoch
        self.divisor = divisor
        self.max_weight = max_weight

    def weight(self, epoch: int) -> float:
        """lambda(epoch)."""
        return min(max(epoch - self.start_epoch, 0) / self.divisor,
                   self.max_weight)

    @staticmethod
    def _algorithm(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'distill_loss_weight'):
            raise TypeError(
                f'{type(model).__name__} has no `distill_loss_weight`: '
                'DistillLossWeightHook schedules the weight of an algorithm '
                'that scales its distillation losses by it (CAKDDistill).')
        return model

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise TypeError(
                'DistillLossWeightHook follows epochs: train with '
                'train_cfg=dict(by_epoch=True, ...).')
        self._algorithm(runner)

    def before_train_epoch(self, runner) -> None:
        self._algorithm(runner).distill_loss_weight = self.weight(
            runner.epoch)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        runner.message_hub.update_scalar(
            'train/distill_loss_weight',
            self._algorithm(runner).distill_loss_weight)
