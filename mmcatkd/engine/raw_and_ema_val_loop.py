"""Validation of the raw and the EMA student, and the teacher once."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.hooks import EMAHook
from mmengine.model import is_model_wrapper
from mmengine.registry import LOOPS
from mmengine.runner import ValLoop
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader

from ..utils.mmengine_private import swap_ema_parameters


@LOOPS.register_module()
class RawAndEMAValLoop(ValLoop):
    """Validates the student as trained and, with an ``EMAHook``, its EMA.

    Torchvision's reference recipe, which cross-architecture KD (Liu et al.,
    ACCV 2022) trains with, evaluates both models every epoch. MMEngine's
    ``EMAHook`` swaps the EMA weights in before validation, so the plain
    ``ValLoop`` reports only the EMA model; this loop evaluates the EMA model
    (metrics prefixed ``ema/``), swaps the raw weights back for a second pass
    (plain metric names, e.g. ``accuracy/top1``), and leaves the swap state
    as the hook expects, so training resumes on the raw weights. (MMRazor's
    ``SingleTeacherDistillValLoop`` calls ``before_val_epoch`` twice, which
    swaps the EMA weights into the trained model.)

    With a distillation algorithm (a model with a ``teacher``), the first
    validation of a run also evaluates the teacher on the algorithm's data
    preprocessing (``teacher.`` prefix): a check that its checkpoint loaded,
    paid once.

    Args:
        runner, dataloader, evaluator, fp16: as MMEngine's ``ValLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self._teacher_done = False

    def _ema_hook(self) -> Optional[EMAHook]:
        hooks = [h for h in self.runner.hooks if isinstance(h, EMAHook)]
        return hooks[0] if hooks else None

    def _algorithm(self) -> torch.nn.Module:
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def _evaluate(self, teacher: bool = False) -> Dict[str, float]:
        """One pass over the dataloader (the student, or the teacher on the
        algorithm's data preprocessing) and its metrics."""
        self.val_loss.clear()  # run_iter collects losses a model may return
        for idx, data_batch in enumerate(self.dataloader):
            if not teacher:
                self.run_iter(idx, data_batch)
                continue
            algorithm = self._algorithm()
            with torch.no_grad(), autocast(enabled=self.fp16):
                data = algorithm.data_preprocessor(data_batch, False)
                outputs = algorithm.teacher(**data, mode='predict')
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))

    def run(self) -> Dict[str, float]:
        """Launch validation."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')  # EMAHook: EMA weights in
        self.runner.model.eval()
        ema_hook = self._ema_hook()
        metrics = {}
        if ema_hook is not None:
            metrics.update({
                f'ema/{key}': value
                for key, value in self._evaluate().items()
            })
            swap_ema_parameters(ema_hook)  # the raw weights back
        metrics.update(self._evaluate())
        if ema_hook is not None:
            swap_ema_parameters(ema_hook)  # as after_val_epoch expects
        if hasattr(self._algorithm(), 'teacher') and not self._teacher_done:
            metrics.update({
                f'teacher.{key}': value
                for key, value in self._evaluate(teacher=True).items()
            })
            self._teacher_done = True
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
