"""Refuse to resume (or test) from a checkpoint of another architecture."""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import find_latest_checkpoint
from torch import nn

from ...utils import state_dict_differences, strip_prefix
from ...utils.errors import ConfigError
from ...utils.mmengine_private import runner_is_resuming, runner_load_from


class CheckpointMismatchError(ConfigError):
    """The weights of a checkpoint do not fit the model of the config."""


def state_dict_mismatch(model: nn.Module, state: Dict) -> Optional[str]:
    """What differs between ``model``'s weights and ``state`` (None if
    nothing): missing, unexpected and differently shaped keys, a few each.
    DataParallel's ``module.`` prefix is ignored, as MMEngine does."""
    missing, unexpected, reshaped = state_dict_differences(model, state)
    if not (missing or unexpected or reshaped):
        return None
    return (f'{len(missing)} missing keys {missing[:3]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:3]}, {len(reshaped)} shape '
            f'mismatches {reshaped[:3]}')


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Raise :class:`CheckpointMismatchError` when a loaded checkpoint's
    weights do not fit the model exactly.

    MMEngine loads checkpoints non-strictly and only logs the mismatch: a
    resume from a checkpoint of another config continues from partly random
    weights (or fails later in the optimizer state with an unrelated
    message), and a test of a distillation checkpoint with the student's
    config evaluates a random student. This hook checks in
    ``after_load_checkpoint``, before any weight is copied.

    Args:
        on_load_from (bool): check ``load_from`` loads too, not only
            resumes. ``tools/test.py`` sets it; for training, ``load_from``
            stays non-strict (fine-tuning from another head is legitimate).
            Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, on_load_from: bool = False) -> None:
        self.on_load_from = on_load_from

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        # Runner.resume and load_from both end in this hook; only the
        # Runner records which one is running.
        if not (self.on_load_from or runner_is_resuming(runner)):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        mismatch = state_dict_mismatch(
            model, checkpoint.get('state_dict', checkpoint))
        if mismatch is None:
            return
        resuming = runner_is_resuming(runner)
        hint = 'check that the checkpoint was written with this config'
        if resuming:
            hint = ('resume only from a checkpoint this config wrote (to '
                    'start from other weights, give them as load_from '
                    'without --resume)')
        elif strip_prefix(
                checkpoint.get('state_dict', checkpoint), 'architecture.'):
            hint = ('it is a distillation checkpoint: test its student '
                    'with the distillation config, or export the student '
                    'first with tools/export_student.py')
        # The path as Runner.load_or_resume chose it (the hook is not told).
        path = (
            runner_load_from(runner)
            or find_latest_checkpoint(runner.work_dir))
        raise CheckpointMismatchError(
            f'the checkpoint {path} does not match the model of this config '
            f'({mismatch}): {hint}.')
