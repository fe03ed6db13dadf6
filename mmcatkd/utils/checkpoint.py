"""Loading checkpoints safely, and reading model weights out of them.

Every checkpoint mmcatkd reads goes through :func:`safe_torch_load`:
PyTorch's ``weights_only`` loader, allowing exactly what MMEngine training
checkpoints hold beyond tensors (:func:`mmengine_checkpoint_globals`), with
one sentence per way a file can be bad (:class:`UnsafeCheckpointError`,
:class:`CorruptCheckpointError`). ``import mmcatkd`` makes MMEngine's own
loaders (``load_checkpoint``, ``Runner.resume``, URLs) call it too
(:mod:`mmcatkd.compat.mmengine_checkpoint`,
:mod:`mmcatkd.compat.checkpoint_urls`).
"""
import io
import os.path as osp
import pickle
import zipfile
from typing import Callable, Dict, List, Mapping, Tuple, Union

import torch

from .errors import UserError
from .mmengine_private import history_buffer_statistics, load_checkpoint_file


class UnsafeCheckpointError(UserError, pickle.UnpicklingError):
    """A checkpoint whose pickle needs more than tensors and plain data."""


class CorruptCheckpointError(UserError, RuntimeError):
    """A checkpoint file that is truncated or not a checkpoint at all."""


def _numpy_checkpoint_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Numpy globals a pickled array or scalar needs, under numpy 1.x and 2.x.

    Checkpoints written under numpy 1.x name ``numpy.core.multiarray``; numpy
    2.x names ``numpy._core.multiarray``. Both names are allowed, bound to the
    running numpy's functions.
    """
    import numpy as np
    multiarray = getattr(np, '_core', np.core).multiarray
    allowed: list = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed.append((multiarray._reconstruct, f'{module}._reconstruct'))
        allowed.append((multiarray.scalar, f'{module}.scalar'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles these
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


# Registered by HistoryBuffer on its first instance, so listed here as well.
_HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def _history_buffer_statistic(owner, name: str):
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    A pickled ``HistoryBuffer`` stores its statistics methods, which pickle
    writes as ``getattr(HistoryBuffer, 'mean')``. Allowing the real
    ``getattr`` would let a pickle reach any attribute of any allowed object;
    this stand-in is bound to the name ``builtins.getattr`` instead.
    """
    from mmengine.logging import HistoryBuffer
    if ((owner is HistoryBuffer or isinstance(owner, HistoryBuffer)) and name
            in _HISTORY_BUFFER_STATISTICS.union(history_buffer_statistics())):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r:.40}, {name!r}): a checkpoint may only '
        'look up HistoryBuffer statistics methods')


def mmengine_checkpoint_globals() -> list:
    """The globals MMEngine training checkpoints contain beyond tensors."""
    from mmengine.logging import HistoryBuffer
    return [
        HistoryBuffer,
        (_history_buffer_statistic, 'builtins.getattr'),
        (_history_buffer_statistic, '__builtin__.getattr'),
    ] + _numpy_checkpoint_globals()


def _loader_reason(err: Exception) -> str:
    """The reason in a ``weights_only`` loader error, in one sentence.

    PyTorch wraps it in advice to retry with the unsafe loader, which
    mmcatkd never repeats: only the ``WeightsUnpickler error`` itself is
    kept (e.g. ``Unsupported global: GLOBAL posix.system ...``).
    """
    lines = [line.strip() for line in str(err).splitlines()]
    for index, line in enumerate(lines):
        if 'WeightsUnpickler error:' in line:
            rest = line.split('WeightsUnpickler error:', 1)[1].strip()
            following = [text for text in lines[index + 1:] if text]
            reason = rest or (following[0] if following else '')
            break
    else:
        reason = next((line for line in lines if line and not line.startswith(
            ('Weights only load failed', 'Check the documentation'))), '')
    return reason.split('. ')[0].rstrip('.') or type(err).__name__


class _StandIn:
    """What :class:`_GlobalsLister` hands a pickle instead of any global:
    calling, building or filling it runs nothing, so the pickle reads on."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs) -> '_StandIn':
        return _StandIn()

    def __setstate__(self, state) -> None:
        pass

    def __setitem__(self, key, value) -> None:
        pass

    def append(self, item) -> None:
        pass

    def extend(self, items) -> None:
        pass


class _GlobalsLister(pickle.Unpickler):
    """Reads a pickle, noting each global it names and importing none.

    Every object a pickle can call comes from :meth:`find_class` (or a
    persistent id), so with :class:`_StandIn` in their place no code from
    the file runs (the "Restricting Globals" pattern of :mod:`pickle`).
    """

    def __init__(self, file) -> None:
        super().__init__(file)
        self.found: List[Tuple[str, str]] = []

    def find_class(self, module: str, name: str) -> type:
        self.found.append((module, name))
        return _StandIn

    def persistent_load(self, pid) -> _StandIn:
        return _StandIn()


def _weights_only_allows(module: str, name: str) -> bool:
    """Whether :func:`safe_torch_load` accepts the global ``module.name``,
    asked of PyTorch's ``weights_only`` loader itself with a pickle of that
    one global (which it returns as a legacy file's magic number, or
    refuses)."""
    one_global = b'\x80\x02c%s\n%s\n.' % (module.encode(), name.encode())
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            torch.load(io.BytesIO(one_global), weights_only=True)
    except RuntimeError as err:  # the global was read, then not a magic no.
        return 'magic number' in str(err)
    except Exception:  # refused (Unsupported global) or not even parsed
        return False
    return True


def _refused_globals_in_plain_pickle(filename: str) -> List[str]:
    """The globals that the pickles of ``filename``, a file that is not a
    zip checkpoint, would import and :func:`safe_torch_load` refuses, read
    without importing or calling any of them (e.g. ``['posix.system']``).

    The ``weights_only`` loader stops at pickle opcodes it does not know
    (the frames of protocol 4 and 5, protocol 0's text) before it reaches
    a global, so a plain pickle that runs code would otherwise pass for a
    corrupt file.
    """
    if zipfile.is_zipfile(filename):
        return []
    with open(filename, 'rb') as file:
        lister = _GlobalsLister(file)
        try:
            while True:  # a legacy torch.save file is several pickles
                lister.load()
        except Exception:  # the end of the file, or bytes that are no
            pass  # pickle: the globals named up to there are the answer
    refused = []
    for module, name in lister.found:
        if (not _weights_only_allows(module, name)
                and f'{module}.{name}' not in refused):
            refused.append(f'{module}.{name}')
    return refused


def _refusal(filename: str, err: pickle.UnpicklingError) -> Exception:
    """The error for a file the ``weights_only`` loader refused with
    ``err``: unsafe where the file would import or call code, else
    corrupt."""
    reason = _loader_reason(err)
    # A refused import or call ('Unsupported global', our getattr guard) is
    # unsafe; anything else (an unknown opcode) is corruption, unless the
    # file is a plain pickle naming globals the loader would refuse.
    if not any(word in reason.lower() for word in ('global', 'refusing')):
        refused = _refused_globals_in_plain_pickle(filename)
        if not refused:
            return CorruptCheckpointError(
                f'{filename} is corrupt or not a PyTorch checkpoint (the '
                f'weights_only loader read: {reason}).')
        reason = ('a plain pickle, not a zip checkpoint, that would import ' +
                  ', '.join(refused))
    return UnsafeCheckpointError(
        f'{filename} is not a safe checkpoint: its pickle needs code beyond '
        'tensors and plain data, which the weights_only loader refuses '
        f'({reason}). Load only checkpoints you trust the origin of.')


def safe_torch_load(filename: str, map_location=None):
    """``torch.load`` with ``weights_only=True`` and readable failures.

    Allows exactly the globals of :func:`mmengine_checkpoint_globals`.

    Raises:
        FileNotFoundError: no file at ``filename``.
        IsADirectoryError: ``filename`` is a directory.
        UnsafeCheckpointError: the pickle would import or call anything else
            (e.g. ``os.system``), in a zip checkpoint or a plain pickle file.
        CorruptCheckpointError: the file is empty, truncated or not a
            checkpoint.
    """
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        raise IsADirectoryError(
            f'{filename} is a directory, not a checkpoint file: give the '
            '.pth file in it.')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CorruptCheckpointError(
            f'{filename} is empty (0 bytes): writing it was interrupted or '
            'failed; use an earlier checkpoint.')
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refusal(filename, err) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise CorruptCheckpointError(
            f'{filename} is corrupt or truncated and cannot be loaded '
            f'({type(err).__name__}: {_loader_reason(err)}).') from err
    except Exception as err:
        # torch.load's legacy path on bytes that are neither a zip archive
        # nor a pickle (a text file: KeyError on its first byte, ...).
        raise CorruptCheckpointError(
            f'{filename} is not a PyTorch checkpoint (neither a zip archive '
            f'nor a pickle; {type(err).__name__}: {err}): check the '
            'path.') from err


StateDict = Dict[str, torch.Tensor]

#: the prefix DataParallel and DistributedDataParallel give every key
DATA_PARALLEL_PREFIX = 'module.'


def strip_prefix(state: Mapping, prefix: str) -> StateDict:
    """The entries of ``state`` whose key starts with ``prefix``, without it.

    ``strip_prefix(state, 'architecture.')`` is the student of a distillation
    checkpoint, ``'teacher.'`` its teacher.
    """
    return {
        key[len(prefix):]: value
        for key, value in state.items() if key.startswith(prefix)
    }


def strip_data_parallel(state: Mapping) -> StateDict:
    """``state`` with DataParallel's ``module.`` removed from every key."""
    prefix = DATA_PARALLEL_PREFIX
    return {
        key[len(prefix):] if key.startswith(prefix) else key: value
        for key, value in state.items()
    }


def checkpoint_state_dict(path: str) -> StateDict:
    """The model weights of an MMEngine/MMPretrain checkpoint (a path or URL).

    ``state_dict`` is unwrapped and DataParallel's ``module.`` is stripped.
    """
    checkpoint = load_checkpoint_file(path)
    return strip_data_parallel(checkpoint.get('state_dict', checkpoint))


def state_dict_differences(
        model: torch.nn.Module,
        state: Mapping) -> Tuple[List[str], List[str], List[str]]:
    """Keys of ``model`` missing from ``state``, keys of ``state`` the model
    lacks, and ``'key (shape) vs (shape)'`` for tensors of another shape;
    each sorted. DataParallel's ``module.`` prefix is ignored."""
    state = strip_data_parallel(state)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(
        f'{key} {tuple(state[key].shape)} vs {tuple(expected[key].shape)}'
        for key in set(state) & set(expected) if hasattr(state[key], 'shape')
        and state[key].shape != expected[key].shape)
    return missing, unexpected, reshaped
