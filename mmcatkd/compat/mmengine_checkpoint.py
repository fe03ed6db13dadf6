"""MMEngine 0.10.7 loads checkpoint files with torch.load's defaults, which
refuse MMEngine's own checkpoints (torch >= 2.6) or run code from the file
(torch < 2.6); they go through safe_torch_load.

For: MMEngine 0.10.7 (``mmengine.runner.checkpoint.load_from_local`` calls
``torch.load(filename, map_location=...)``) on any torch.

Symptom without it: on torch >= 2.6, ``Runner.resume`` and
``load_checkpoint`` of a training checkpoint fail with ``Unsupported
global: GLOBAL mmengine.logging.history_buffer.HistoryBuffer``; on torch <
2.6 (or with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``) a checkpoint can run
code while it loads.

Detection, and how to tell it can go:
:func:`torch_load_mishandles_mmengine_checkpoints` saves a logged
``HistoryBuffer`` and a harmless call, and loads both with ``torch.load``'s
defaults as MMEngine calls it. Where the first loads and the second is
refused (a torch that allows MMEngine's globals by default, or an MMEngine
that passes them itself), :func:`apply` does nothing and this module can be
deleted; :func:`mmcatkd.utils.checkpoint.safe_torch_load` stays what
mmcatkd's own code loads with.
"""
import io
import pickle

import torch

from ..utils.checkpoint import safe_torch_load

NAME = 'safe-checkpoint-files'


class _CallsLen:
    """Pickles as a call of ``len``: harmless, but code that a safe loader
    refuses."""

    def __reduce__(self):
        return len, ((), )


def _default_torch_load_accepts(obj) -> bool:
    """Whether ``torch.load`` with its defaults, as MMEngine 0.10.7 calls it,
    loads ``obj`` back from its saved bytes."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, map_location='cpu')
    except pickle.UnpicklingError:
        return False
    return True


def torch_load_mishandles_mmengine_checkpoints() -> bool:
    """Whether ``torch.load``'s defaults refuse MMEngine's own training
    checkpoints (the weights-only default of torch >= 2.6 without MMEngine's
    ``HistoryBuffer`` allowed) or run code named in a checkpoint (the
    default of torch < 2.6, or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``)."""
    from mmengine.logging import HistoryBuffer
    logged_loss = HistoryBuffer()  # as a checkpoint's message hub holds it
    logged_loss.update(0.5)
    return (not _default_torch_load_accepts(logged_loss)
            or _default_torch_load_accepts(_CallsLen()))


def load_from_local(filename: str, map_location=None):
    """MMEngine's local checkpoint loader, on :func:`safe_torch_load`."""
    return safe_torch_load(filename, map_location)


def apply() -> bool:
    """Register :func:`load_from_local` as MMEngine's scheme for local files
    (``load_checkpoint``, ``Runner.resume`` and ``Runner.load_checkpoint``
    all use it) where the problem is detected; whether it was."""
    if not torch_load_mishandles_mmengine_checkpoints():
        return False
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    return True
