"""Companion of ``CATLoss(loss_weight='auto')``: window, log, dumped config."""
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from mmcatkd.models.losses.auto_beta import AutoBeta
from mmcatkd.utils.mmengine_private import config_node
from ...utils.errors import ConfigError


def auto_betas(model) -> List[AutoBeta]:
    """The :class:`AutoBeta` modules of ``model`` (unwrapped), in order."""
    if is_model_wrapper(model):
        model = model.module
    return [
        module for module in model.modules() if isinstance(module, AutoBeta)
    ]


def fix_auto_weights(cfg_node, betas: List[float]) -> int:
    """Replace, depth first, each ``loss_weight='auto'`` in ``cfg_node`` by
    the next of ``betas``; returns how many were replaced."""
    replaced = 0
    if isinstance(cfg_node, dict):
        for key, value in cfg_node.items():
            if key == 'loss_weight' and value == 'auto' and betas:
                cfg_node[key] = betas.pop(0)
                replaced += 1
            else:
                replaced += fix_auto_weights(value, betas)
    elif isinstance(cfg_node, (list, tuple)):
        for value in cfg_node:
            replaced += fix_auto_weights(value, betas)
    return replaced


@HOOKS.register_module()
class CATAutoBetaHook(Hook):
    """Gives ``CATLoss(loss_weight='auto')`` its window and records its beta.

    - Before training, a loss without ``auto_iters`` gets one epoch
      (``len(train_dataloader)`` iterations), the authors' "after the first
      epoch".
    - Every iteration, the weight in use is logged as ``cat_beta``.
    - Once beta is chosen (and again on resume), the run's dumped config in
      the work directory is rewritten with ``loss_weight=<beta>`` in place of
      ``'auto'`` and an ``auto_beta`` entry (beta, target, window, measured
      CAT), so the run can be repeated with a fixed beta.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._written = False

    def before_train(self, runner) -> None:
        modules = auto_betas(runner.model)
        if not modules:
            raise ConfigError(
                "CATAutoBetaHook found no CATLoss(loss_weight='auto') in the "
                'model: remove the hook or set the loss weight to auto.')
        for module in modules:
            if module._window == 0:
                module.set_window(len(runner.train_dataloader))
        self._write_config(runner, modules)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        modules = auto_betas(runner.model)
        for index, module in enumerate(modules):
            suffix = '' if len(modules) == 1 else f'_{index}'
            weight = (
                module.beta.item() if module.chosen else module.target *
                module.steps.item() / module.window_sum.item())
            runner.message_hub.update_scalar(f'train/cat_beta{suffix}', weight)
        self._write_config(runner, modules)

    def _write_config(self, runner, modules: List[AutoBeta]) -> None:
        if self._written or not all(m.chosen for m in modules):
            return
        betas = [float(m.beta.item()) for m in modules]
        fix_auto_weights(config_node(runner.cfg, 'model'), list(betas))
        runner.cfg.auto_beta = [
            dict(
                beta=beta,
                target=m.target,
                window=m._window,
                measured_cat=m.measured) for beta, m in zip(betas, modules)
        ]
        runner.dump_config()
        runner.logger.info(
            f'auto beta {", ".join(f"{b:.6g}" for b in betas)} written into '
            'the dumped config of this run (loss_weight).')
        self._written = True
