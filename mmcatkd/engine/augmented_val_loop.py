"""Validation on the clean test images and on the test images through the
training augmentation (the multi-teacher study's ``val_aug`` phase)."""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.evaluator import Evaluator
from mmengine.registry import LOOPS
from mmengine.runner import ValLoop
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader


@LOOPS.register_module()
class AugmentedValLoop(ValLoop):
    """``ValLoop`` plus a second pass over ``aug_dataloader``.

    Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention
    and Fidelity Mechanism", ESWA 2025, https://arxiv.org/abs/2405.00739:
    the authors (zisci2/RethinkKD ``trainer.py``, ``my_validate_aug``)
    measure fidelity on ``val_aug``, the test images through the student's
    training augmentation, batch 128, the last partial batch dropped, with
    the student in eval mode. This loop validates on ``dataloader`` with
    ``evaluator`` as MMEngine's ``ValLoop`` (plain metric names, which
    ``save_best`` reads), then on ``aug_dataloader`` with ``aug_evaluator``
    (metrics prefixed ``{aug_prefix}/``), and hands both to the hooks as one
    epoch's metrics.

    Args:
        runner, dataloader, evaluator, fp16: as MMEngine's ``ValLoop``.
        aug_dataloader (DataLoader | dict): the augmented test images.
        aug_evaluator (list | dict | Evaluator, optional): their metrics.
            Defaults to None: ``evaluator``'s config.
        aug_prefix (str): Defaults to 'val_aug'.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List, Evaluator],
                 aug_dataloader: Union[DataLoader, Dict],
                 aug_evaluator: Optional[Union[Dict, List, Evaluator]] = None,
                 aug_prefix: str = 'val_aug',
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        if isinstance(aug_dataloader, dict):
            # its workers' augmentation is seeded from the run's seed
            aug_dataloader = runner.build_dataloader(
                aug_dataloader, seed=runner.seed)
        self.aug_dataloader = aug_dataloader
        self.aug_evaluator = runner.build_evaluator(
            evaluator if aug_evaluator is None else aug_evaluator)
        dataset = self.aug_dataloader.dataset
        if hasattr(dataset, 'metainfo'):
            self.aug_evaluator.dataset_meta = dataset.metainfo
        self.aug_prefix = aug_prefix

    def _evaluate(self, dataloader: Sequence,
                  evaluator: Evaluator) -> Dict[str, float]:
        """One pass of the model over ``dataloader`` and its metrics."""
        self.val_loss.clear()
        for idx, data_batch in enumerate(dataloader):
            self.runner.call_hook(
                'before_val_iter', batch_idx=idx, data_batch=data_batch)
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.val_step(data_batch)
            evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook(
                'after_val_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=outputs)
        return evaluator.evaluate(len(dataloader.dataset))

    def run(self) -> Dict[str, float]:
        """Launch validation: the clean pass, then the augmented one."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        metrics = self._evaluate(self.dataloader, self.evaluator)
        metrics.update({
            f'{self.aug_prefix}/{key}': value
            for key, value in self._evaluate(self.aug_dataloader,
                                             self.aug_evaluator).items()
        })
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
