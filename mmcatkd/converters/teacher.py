"""Turn reference teacher checkpoints into MMPretrain checkpoints.

CAT-KD (Guo et al., CVPR 2023, https://arxiv.org/abs/2304.12777) distils from
the CRD / MDistiller CIFAR-100 teachers and from torchvision's ImageNet
ResNets. This module converts those checkpoints for the mmcatkd model built
from a config (``backbone.*``, ``head.*`` keys), so that
``mmengine.runner.load_checkpoint(model, dst, strict=True)`` loads them.

Keys are matched by structure, not by name: the mmcatkd backbones register
their layers in the reference's order, so the source and destination state
dicts list the same tensors in the same order, each with the same leaf name
(``weight``, ``running_mean``, ...) and shape. The two sequences are aligned on
that signature; anything the alignment leaves over on either side is an
error that lists the keys. Torchvision has no MobileNetV1: the ``torchvision``
source covers its ResNets (MMPretrain's ``ResNet``), the ``mdistiller`` source
everything in ``configs/_base_/models/cifar100`` and the ImageNet MobileNetV1.
"""
import difflib
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Sequence, Tuple

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from torch import nn

from ..utils.atomic_file import atomic_torch_save
from ..utils.checkpoint import safe_torch_load, strip_data_parallel
from ..utils.errors import ConfigError, ConfigKeyError
from ..version import __version__

SOURCES = ('mdistiller', 'torchvision')


def compact_keys(keys: Sequence[str]) -> str:
    """Keys joined, consecutive leaves of one module braced together:
    ``bn1.{weight,bias}``, so long lists stay complete but readable."""
    groups: List[Tuple[str, List[str]]] = []
    for key in keys:
        module, _, leaf = key.rpartition('.')
        if groups and groups[-1][0] == module:
            groups[-1][1].append(leaf)
        else:
            groups.append((module, [leaf]))
    return ', '.join(
        (f'{module}.' if module else '') +
        (leaves[0] if len(leaves) == 1 else '{' + ','.join(leaves) + '}')
        for module, leaves in groups)


class UnmappedKeysError(ConfigError):
    """Source and destination tensors that have no counterpart.

    Attributes:
        source_keys (list[str]): source keys with no destination.
        destination_keys (list[str]): destination keys with no source.
    """

    def __init__(self,
                 source_keys: Sequence[str],
                 destination_keys: Sequence[str],
                 detail: str = ''):
        self.source_keys = list(source_keys)
        self.destination_keys = list(destination_keys)
        super().__init__(
            'the checkpoint does not match the model: '
            f'{len(self.source_keys)} source key(s) with no destination '
            f'[{compact_keys(self.source_keys)}] and '
            f'{len(self.destination_keys)} destination key(s) with no '
            f'source [{compact_keys(self.destination_keys)}]{detail}. Check '
            'that the model config describes the architecture the '
            'checkpoint was trained with.')


def load_source_state_dict(path: str, source: str) -> 'OrderedDict':
    """The state dict of a reference checkpoint, ``module.`` prefixes removed.

    Loaded with the weights-only loader (:func:`mmcatkd.utils.checkpoint.
    safe_torch_load`), on the CPU.

    Args:
        path (str): the checkpoint file.
        source (str): 'mdistiller' (CRD / MDistiller: ``{'model':
            state_dict, ...}``) or 'torchvision' (a bare state dict).
    """
    if source not in SOURCES:
        raise ConfigError(f'unknown source {source!r}: choose one of '
                          f'{list(SOURCES)}.')
    checkpoint = safe_torch_load(path, map_location='cpu')
    if source == 'mdistiller':
        if not isinstance(checkpoint, Mapping) or 'model' not in checkpoint:
            found = (
                sorted(checkpoint) if isinstance(checkpoint, Mapping) else
                type(checkpoint).__name__)
            raise ConfigError(
                f'{path} is not an MDistiller/CRD checkpoint: expected a dict '
                f"with the state dict under 'model', found {found}.")
        state_dict = checkpoint['model']
    else:
        state_dict = checkpoint
    if not isinstance(state_dict, Mapping) or not all(
            isinstance(value, torch.Tensor) for value in state_dict.values()):
        raise ConfigError(f'{path} holds no {source} state dict (a mapping of '
                          'parameter names to tensors).')
    # DataParallel / DistributedDataParallel checkpoints prefix every key.
    return OrderedDict(strip_data_parallel(state_dict))


def check_registration_order(keys: Sequence[str]) -> None:
    """Raise when numbered submodules are not listed in increasing order.

    A state dict lists tensors in module registration order, which the
    structural mapping relies on. A re-saved checkpoint whose keys were sorted
    as strings lists ``layer1.10`` before ``layer1.2``; blocks of one stage
    have equal shapes, so the alignment would silently swap them.
    """
    seen: Dict[Tuple[str, ...], List[int]] = {}
    for key in keys:
        parts = key.split('.')
        for depth, part in enumerate(parts):
            if not part.isdigit():
                continue
            indices = seen.setdefault(tuple(parts[:depth]), [])
            if not indices or indices[-1] != int(part):
                indices.append(int(part))
    for parent, indices in seen.items():
        if indices != sorted(set(indices)):
            raise ConfigError(
                'the checkpoint does not list its tensors in module '
                f"registration order ('{'.'.join(parent)}' has submodules "
                f'{indices[:12]}...), so they cannot be mapped by position: '
                'convert the original checkpoint, not a re-sorted copy.')


def _signature(key: str, value: torch.Tensor) -> Tuple[str, Tuple[int, ...]]:
    """What two matching tensors share: leaf name and shape."""
    return key.rsplit('.', 1)[-1], tuple(value.shape)


def map_state_dict(source: Mapping[str, torch.Tensor],
                   destination: Mapping[str, torch.Tensor]) -> 'OrderedDict':
    """Source tensors under destination keys, matched by order and shape.

    Args:
        source: the reference state dict (in registration order).
        destination: the state dict of the model to load into; only its keys,
            order and shapes are used.

    Returns:
        OrderedDict: destination key -> source tensor, for every destination
        key.

    Raises:
        UnmappedKeysError: a tensor on either side has no counterpart (a
            missing or extra layer, a different shape, a different number
            of classes).
    """
    check_registration_order(list(source))
    src_keys, dst_keys = list(source), list(destination)
    matcher = difflib.SequenceMatcher(
        None, [_signature(k, source[k]) for k in src_keys],
        [_signature(k, destination[k]) for k in dst_keys],
        autojunk=False)
    mapped = OrderedDict()
    unmapped_src, unmapped_dst, details = [], [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            for src_key, dst_key in zip(src_keys[i1:i2], dst_keys[j1:j2]):
                mapped[dst_key] = source[src_key]
            continue
        unmapped_src += src_keys[i1:i2]
        unmapped_dst += dst_keys[j1:j2]
        if tag == 'replace':
            details += [
                f'{s} {tuple(source[s].shape)} vs {d} '
                f'{tuple(destination[d].shape)}'
                for s, d in zip(src_keys[i1:i2], dst_keys[j1:j2])
            ]
    if unmapped_src or unmapped_dst:
        detail = f' (mismatched: {"; ".join(details[:5])})' if details else ''
        raise UnmappedKeysError(unmapped_src, unmapped_dst, detail)
    return OrderedDict((key, mapped[key]) for key in dst_keys)


def build_model(model_config: str) -> nn.Module:
    """The model (``model`` entry) of an MMEngine config file, on the CPU."""
    cfg = Config.fromfile(model_config)
    if 'model' not in cfg:
        raise ConfigKeyError(f'{model_config} defines no `model`.')
    return MODELS.build(cfg.model)


def convert_teacher(source: str, src_path: str, dst_path: str,
                    model_config: str) -> dict:
    """Convert a reference checkpoint for the model of ``model_config``.

    Args:
        source (str): 'mdistiller' or 'torchvision', see
            :func:`load_source_state_dict`.
        src_path (str): the reference checkpoint.
        dst_path (str): where to write ``{'state_dict': ..., 'meta': ...}``.
        model_config (str): config file whose ``model`` is the destination.

    Returns:
        dict: the checkpoint written to ``dst_path``.
    """
    source_state = load_source_state_dict(src_path, source)
    model = build_model(model_config)
    state_dict = map_state_dict(source_state, model.state_dict())
    checkpoint = dict(
        state_dict=state_dict,
        meta=dict(
            mmcatkd_version=__version__,
            converted_from=osp.basename(src_path),
            source_format=source,
            model_config=model_config))
    atomic_torch_save(checkpoint, dst_path)
    return checkpoint
