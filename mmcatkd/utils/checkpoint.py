"""Reading model weights out of checkpoints, always through the safe loader.

MMEngine's ``_load_checkpoint`` reads local files and URLs; ``import mmcatkd``
makes it PyTorch's ``weights_only`` loader (:mod:`mmcatkd.compat`).
"""
from typing import Dict, List, Mapping, Tuple

import torch
from mmengine.runner.checkpoint import _load_checkpoint

StateDict = Dict[str, torch.Tensor]

#: the prefix DataParallel and DistributedDataParallel give every key
DATA_PARALLEL_PREFIX = 'module.'


def strip_prefix(state: Mapping, prefix: str) -> StateDict:
    """The entries of ``state`` whose key starts with ``prefix``, without it.

    ``strip_prefix(state, 'architecture.')`` is the student of a distillation
    checkpoint, ``'teacher.'`` its teacher.
    """
    return {key[len(prefix):]: value for key, value in state.items()
            if key.startswith(prefix)}


def strip_data_parallel(state: Mapping) -> StateDict:
    """``state`` with DataParallel's ``module.`` removed from every key."""
    return {(key[len(DATA_PARALLEL_PREFIX):]
             if key.startswith(DATA_PARALLEL_PREFIX) else key): value
            for key, value in state.items()}


def checkpoint_state_dict(path: str) -> StateDict:
    """The model weights of an MMEngine/MMPretrain checkpoint (a path or URL).

    ``state_dict`` is unwrapped and DataParallel's ``module.`` is stripped.
    """
    checkpoint = _load_checkpoint(path, map_location='cpu')
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
        for key in set(state) & set(expected)
        if hasattr(state[key], 'shape')
        and state[key].shape != expected[key].shape)
    return missing, unexpected, reshaped
