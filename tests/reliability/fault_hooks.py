"""Test-only hooks that break a training run on purpose.

Child processes import this module through ``custom_imports``; in-process
tests import it directly. Each fault is deterministic: it fires at a given
write or iteration, never after a delay.
"""
import builtins
import errno
import os
import os.path as osp
import signal

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

WRITE_MODES = set('wax+')


class SimulatedKill(BaseException):
    """Stands for SIGKILL in tests that cannot kill their own process."""


class _DyingFile:
    """A file whose first write stores half the data, then the process dies:
    SIGKILL (no cleanup, as on pre-emption), or :class:`SimulatedKill`."""

    def __init__(self, file, sigkill: bool):
        self._file = file
        self._sigkill = sigkill

    def write(self, data):
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        if self._sigkill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise SimulatedKill(self._file.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._file.__exit__(*exc_info)

    def __getattr__(self, name):
        return getattr(self._file, name)


def dying_open(prefix: str, sigkill: bool = True):
    """``open`` that dies halfway through the first write of any file whose
    name starts with ``prefix``, whatever the writer: MMEngine's
    ``open(path, 'wb')`` or a temporary ``path.tmp``."""
    real_open = builtins.open

    def open_and_die(file, mode='r', *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if (isinstance(file, (str, os.PathLike))
                and osp.basename(os.fspath(file)).startswith(prefix)
                and WRITE_MODES & set(mode)):
            return _DyingFile(handle, sigkill)
        return handle

    return open_and_die


class _FullDiskFile(_DyingFile):
    """A file whose first write stores half the data, then fails as on a
    full disk (``OSError(ENOSPC)``); the process goes on."""

    def write(self, data):
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._file.name)


def full_disk_open(prefix: str):
    """``open`` whose files named ``prefix*`` fail halfway through their
    first write as on a full disk (the half written stays on disk)."""
    real_open = builtins.open

    def open_on_full_disk(file, mode='r', *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        if (isinstance(file, (str, os.PathLike))
                and osp.basename(os.fspath(file)).startswith(prefix)
                and WRITE_MODES & set(mode)):
            return _FullDiskFile(handle, sigkill=False)
        return handle

    return open_on_full_disk


@HOOKS.register_module()
class KillWhileWritingHook(Hook):
    """SIGKILL this process halfway through writing a file ``prefix*``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def before_train(self, runner) -> None:
        builtins.open = dying_open(self.prefix)


def _first_weight(runner) -> torch.Tensor:
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    return next(model.architecture.parameters())


@HOOKS.register_module()
class PoisonWeightsHook(Hook):
    """Put a NaN into the student's first weight at iteration ``at_iter``
    (1-based): before its forward (``when='before'``: that iteration's loss
    is NaN) or after its step (``when='after'``: the loss of that iteration
    was finite, the weights to be saved are not)."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int, when: str = 'before') -> None:
        self.at_iter = at_iter
        self.when = when

    def _poison(self, runner) -> None:
        if runner.iter + 1 == self.at_iter:
            with torch.no_grad():
                _first_weight(runner).view(-1)[0] = float('nan')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.when == 'before':
            self._poison(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if self.when == 'after':
            self._poison(runner)


@HOOKS.register_module()
class SaveValidatedBuffersHook(Hook):
    """Not a fault: each process saves the buffers (BatchNorm statistics)
    of the model it validates to ``WORK_DIR/val_buffers_rank{R}.pth``."""

    def before_val_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        torch.save(
            {
                name: buffer.clone()
                for name, buffer in model.named_buffers()
            }, osp.join(runner.work_dir, f'val_buffers_rank{runner.rank}.pth'))
