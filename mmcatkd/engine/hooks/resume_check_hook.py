"""Say what a resume continues with, and apply the config's optimizer and
scheduler settings instead of silently keeping the checkpoint's."""
import math
from typing import Dict, List

from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ...utils.mmengine_private import (SCHEDULER_LAST_VALUE,
                                       SCHEDULER_PRIVATE_STATE,
                                       runner_is_resuming)

# Scheduler state that is progress, not a setting of the config.
SCHEDULER_PROGRESS = frozenset({
    'base_values', 'last_step', '_get_value_called_within_step', 'verbose',
    'param_name'
}) | SCHEDULER_PRIVATE_STATE
# Optimizer group entries that are not settings (or are handled apart).
GROUP_NON_SETTINGS = frozenset({'params', 'lr', 'initial_lr'})


def _base_lr(group: Dict) -> float:
    return group.get('initial_lr', group['lr'])


def _differs(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return not math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return a != b


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Make ``--resume`` follow the config's optimizer and scheduler settings,
    and say when a resumed run has nothing left to train.

    MMEngine's ``Runner.resume`` loads the optimizer and scheduler states
    over the ones built from the config: a learning rate (or momentum,
    weight decay, milestones, ...) changed for the resumed run is ignored
    without a word, so "resume with a lower learning rate" after a
    non-finite loss does nothing. In ``after_load_checkpoint`` (before the
    Runner loads those states) this hook rewrites the checkpoint's copy:

    - a base learning rate that differs from the config's: every learning
      rate of that parameter group (the current one and the schedulers'
      base and last values) is scaled by config / checkpoint, so the
      schedule continues where it was, at the new scale. With
      ``auto_scale_lr`` enabled, the checkpoint's learning rate is kept
      (docs/reliability.md, multi-process rule) and a warning says so;
    - any other setting of a parameter group (momentum, weight decay, ...;
      not one a scheduler moves) and any setting of a scheduler
      (milestones, ``T_max``, ``end``, ...): the config's value;

    each change is logged as one warning line. In ``before_train``, a
    resumed run whose checkpoint is already at ``max_epochs``/``max_iters``
    logs that there is nothing to train.
    """

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        if not runner_is_resuming(runner):
            return
        optim_wrapper = runner.optim_wrapper
        state = checkpoint.get('optimizer')
        if not (isinstance(optim_wrapper, OptimWrapper)
                and isinstance(state, dict) and 'param_groups' in state):
            return  # OptimWrapperDict or no optimizer state: left as it is
        groups = optim_wrapper.optimizer.param_groups
        saved_groups = state['param_groups']
        if len(groups) != len(saved_groups):
            runner.logger.warning(
                f'resume: the checkpoint has {len(saved_groups)} optimizer '
                f'parameter groups and the config {len(groups)}: its '
                'optimizer state is loaded as it is.')
            return
        changes = self._apply_group_settings(runner, groups, saved_groups,
                                             checkpoint)
        changes += self._apply_scheduler_settings(runner, checkpoint)
        for change in changes:
            runner.logger.warning(f'resume: {change}')

    def _apply_group_settings(self, runner, groups: List[Dict],
                              saved_groups: List[Dict],
                              checkpoint: Dict) -> List[str]:
        changes = []
        auto_scale = bool((runner.auto_scale_lr or {}).get('enable', False))
        ratios = [1.0] * len(groups)
        for index, (group, saved) in enumerate(zip(groups, saved_groups)):
            new_lr, old_lr = _base_lr(group), _base_lr(saved)
            if _differs(new_lr, old_lr) and old_lr:
                if auto_scale:
                    changes.append(
                        f'the config gives parameter group {index} the '
                        f'learning rate {new_lr:g}, the checkpoint {old_lr:g}'
                        ': with auto_scale_lr the checkpoint\'s is kept; '
                        'resume without --auto-scale-lr to apply the new '
                        'one.')
                else:
                    ratios[index] = new_lr / old_lr
                    saved['lr'] *= ratios[index]
                    if 'initial_lr' in saved:
                        saved['initial_lr'] = new_lr
                    changes.append(
                        f'parameter group {index}: learning rate {new_lr:g} '
                        f'from the config instead of the checkpoint\'s '
                        f'{old_lr:g} (the current learning rate is scaled by '
                        f'{ratios[index]:g}, to {saved["lr"]:g}).')
            # values a scheduler moves (momentum schedulers also move Adam's
            # betas): their current value is the schedule's, not a setting
            scheduled = {
                key[len('initial_'):]
                for key in group if key.startswith('initial_')
            }
            if 'momentum' in scheduled:
                scheduled.add('betas')
            for key, value in group.items():
                if (key in GROUP_NON_SETTINGS or key.startswith('initial_')
                        or key in scheduled or key not in saved
                        or not _differs(value, saved[key])):
                    continue
                changes.append(f'parameter group {index}: {key}={value!r} '
                               f'from the config instead of the '
                               f'checkpoint\'s {saved[key]!r}.')
                saved[key] = value
        self._scale_scheduler_lrs(checkpoint, ratios)
        return changes

    @staticmethod
    def _schedulers(runner, checkpoint: Dict):
        """(built scheduler, its state in the checkpoint) pairs, or []."""
        built, saved = runner.param_schedulers, checkpoint.get(
            'param_schedulers')
        if isinstance(built, dict) or not built or not isinstance(
                saved, list) or len(built) != len(saved):
            return []
        return list(zip(built, saved))

    def _scale_scheduler_lrs(self, checkpoint: Dict, ratios: List[float]):
        if all(ratio == 1.0 for ratio in ratios):
            return
        for saved in checkpoint.get('param_schedulers') or []:
            if not isinstance(saved, dict) or saved.get('param_name') != 'lr':
                continue
            for key in ('base_values', SCHEDULER_LAST_VALUE):
                if len(saved.get(key, ())) == len(ratios):
                    saved[key] = [
                        value * ratio
                        for value, ratio in zip(saved[key], ratios)
                    ]

    def _apply_scheduler_settings(self, runner, checkpoint: Dict) -> List:
        pairs = self._schedulers(runner, checkpoint)
        saved_count = len(checkpoint.get('param_schedulers') or [])
        built_count = len(runner.param_schedulers or [])
        if not pairs and saved_count != built_count and not isinstance(
                runner.param_schedulers, dict):
            return [
                f'the checkpoint has {saved_count} parameter schedulers '
                f'and the config {built_count}: the checkpoint\'s states '
                'are loaded as they are; check param_scheduler.'
            ]
        changes = []
        for index, (scheduler, saved) in enumerate(pairs):
            name = type(scheduler).__name__
            for key, value in scheduler.state_dict().items():
                if key in SCHEDULER_PROGRESS or key not in saved:
                    continue
                if _differs(value, saved[key]):
                    changes.append(
                        f'scheduler {index} ({name}): {key}={value!r} from '
                        f'the config instead of the checkpoint\'s '
                        f'{saved[key]!r}.')
                    saved[key] = value
        return changes

    def before_train(self, runner) -> None:
        if not runner_is_resuming(runner):
            return
        loop = runner.train_loop
        # IterBasedTrainLoop has a max_epochs too (always 1): ask its kind
        by_iter = isinstance(
            loop, IterBasedTrainLoop) or not hasattr(loop, 'max_epochs')
        if by_iter and loop.iter >= loop.max_iters:
            done, limit = f'iteration {loop.iter}', (
                f'train_cfg.max_iters={loop.max_iters}')
        elif not by_iter and loop.epoch >= loop.max_epochs:
            done, limit = f'epoch {loop.epoch}', (
                f'train_cfg.max_epochs={loop.max_epochs}')
        else:
            return
        runner.logger.warning(
            f'resume: the checkpoint is at {done} and {limit}: nothing is '
            'left to train; raise it (--cfg-options) to train further.')
