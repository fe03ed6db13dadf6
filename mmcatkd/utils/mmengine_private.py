"""The one door to MMEngine's private API.

mmcatkd uses MMEngine's public API everywhere but here: each private
attribute or method it still needs is reached through one function or
class of this module, so that a new MMEngine version means re-checking one
file. ``tests/utils/test_mmengine_private.py`` fails on an MMEngine outside
:data:`WRITTEN_FOR` and checks that every name below still exists with the
meaning assumed here. (The import-time workarounds of :mod:`mmcatkd.compat`
are outside: each of those modules names the version it patches.)

Written for MMEngine 0.10.7.
"""
from typing import FrozenSet, List, Optional, Tuple

from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.model.weight_init import update_init_info
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler
from mmengine.runner.checkpoint import _load_checkpoint

#: the MMEngine versions this module was checked against: [first, end)
WRITTEN_FOR: Tuple[str, str] = ('0.10.7', '0.11.0')


def load_checkpoint_file(path: str, map_location='cpu') -> dict:
    """The checkpoint at ``path`` (a file, ``http(s)://``, ``torchvision://``
    ...) as MMEngine's loaders read it, before any state-dict surgery.

    MMEngine's public ``load_checkpoint`` also loads the result into a
    model; this is its private first half (``_load_checkpoint``).
    """
    return _load_checkpoint(path, map_location=map_location)


def runner_is_resuming(runner) -> bool:
    """Whether ``runner`` resumes (``resume=True``) rather than only
    loading ``load_from`` weights (``Runner._resume``)."""
    return bool(getattr(runner, '_resume', False))


def runner_load_from(runner) -> Optional[str]:
    """The ``load_from`` the runner was given (``Runner._load_from``);
    ``None`` when resuming from the work directory's latest checkpoint."""
    return runner._load_from


def config_node(cfg: Config, key: str):
    """The ``ConfigDict`` stored under ``key`` of ``cfg`` itself, so that
    changes made to it reach ``cfg.dump()`` (``Config._cfg_dict``)."""
    return cfg._cfg_dict[key]


def config_base_files(path: str) -> List[str]:
    """The files a config at ``path`` names as ``_base_``, resolved as
    MMEngine resolves them (relative paths and ``PACKAGE::`` names:
    ``Config._get_base_files`` and ``Config._get_cfg_path``)."""
    return [
        Config._get_cfg_path(base, path)[0]
        for base in Config._get_base_files(path)
    ]


def is_lazy_import_config(filename: str) -> bool:
    """Whether the config file is a pure-Python (lazy import) config
    (``Config._is_lazy_import``)."""
    return Config._is_lazy_import(filename)


#: the entries of a parameter scheduler's ``state_dict`` (its ``__dict__``)
#: that are private attributes of MMEngine's ``_ParamScheduler``
SCHEDULER_PRIVATE_STATE: FrozenSet[str] = frozenset(
    {'_global_step', '_last_value'})
#: the ``state_dict`` entry holding the values the scheduler set last
SCHEDULER_LAST_VALUE = '_last_value'


def converts_bgr_to_rgb(data_preprocessor) -> bool:
    """Whether an ``ImgDataPreprocessor`` swaps the channel order of its
    inputs (``to_rgb``/``bgr_to_rgb``; ``_channel_conversion``)."""
    return bool(getattr(data_preprocessor, '_channel_conversion', False))


def swap_ema_parameters(ema_hook) -> None:
    """Swap the model's weights and ``EMAHook``'s averaged ones, as the hook
    does around validation (``EMAHook._swap_ema_parameters``)."""
    ema_hook._swap_ema_parameters()


def mark_initialised(module) -> None:
    """Make ``module.init_weights()`` leave its weights alone, as after a
    first ``init_weights`` (``BaseModule._is_init``)."""
    module._is_init = True


def record_init_info(module, info: str) -> None:
    """Name ``info`` as the init of each parameter of ``module`` whose value
    an init has just changed, in the table MMEngine logs after a top-level
    ``init_weights`` (``BaseModule._params_init_info``, which exists only
    during ``init_weights``: elsewhere this does nothing)."""
    if hasattr(module, '_params_init_info'):
        update_init_info(module, init_info=info)


def history_buffer_statistics() -> FrozenSet[str]:
    """The names of ``HistoryBuffer``'s registered statistics methods
    (``HistoryBuffer._statistics_methods``)."""
    from mmengine.logging import HistoryBuffer
    return frozenset(HistoryBuffer._statistics_methods)


class StepCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose save of one checkpoint is a method to
    override, :meth:`save_step`.

    MMEngine's ``CheckpointHook`` saves every checkpoint (by epoch or by
    iteration) in ``_save_checkpoint_with_step(runner, step, meta)``, after
    deciding whether to save and which ``meta`` to write; a subclass that
    changes how the files reach the disk overrides :meth:`save_step`.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        self.save_step(runner, step, meta)

    def save_step(self, runner, step: int, meta: dict) -> None:
        """Save the checkpoint of ``step`` (MMEngine's way by default)."""
        super()._save_checkpoint_with_step(runner, step, meta)


class ParamSchedulerBase(_ParamScheduler):
    """MMEngine's base of parameter schedulers (``_ParamScheduler``) with
    the value of the current step as a method to override,
    :meth:`current_values` (MMEngine's ``_get_value``)."""

    def _get_value(self) -> list:
        return self.current_values()

    def current_values(self) -> list:
        """The value of each parameter group at ``self.last_step``."""
        raise NotImplementedError
