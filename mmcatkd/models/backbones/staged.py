"""The stem-then-stages forward shared by mmcatkd's model-zoo backbones.

CAT-KD (Guo et al., CVPR 2023, https://arxiv.org/abs/2304.12777, Sec. 3.1)
computes class activation maps from the feature map that the classifier
globally average-pools. Every backbone here is a stem followed by stages whose
last one ends exactly at that map, so the last output of the default
``out_indices=(-1, )`` is what :class:`CAMClsHead` turns into CAMs.
"""
from typing import Any, Dict, Sequence, Tuple, Union

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch import nn

from ...utils.errors import ConfigIndexError, ConfigKeyError

#: the reference implementations' initialisation: Kaiming-normal (fan_out)
#: convolutions, BatchNorm weight 1 and bias 0
REFERENCE_INIT = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, layer='_BatchNorm')
]


def normalize_out_indices(out_indices: Union[int, Sequence[int]],
                          num_stages: int) -> Tuple[int, ...]:
    """Sorted, non-negative stage indices; negative ones count from the end.

    Raises:
        IndexError: an index is outside ``[-num_stages, num_stages)``.
    """
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    normalized = []
    for index in out_indices:
        if not -num_stages <= index < num_stages:
            raise ConfigIndexError(
                f'out_indices {tuple(out_indices)} has {index}, '
                f'but the backbone has {num_stages} stages: use '
                f'indices in [-{num_stages}, {num_stages}).')
        normalized.append(index % num_stages)
    return tuple(sorted(set(normalized)))


class StagedBackbone(BaseBackbone):
    """A stem followed by stages; returns the outputs of the chosen stages.

    Subclasses assign ``self.stem`` (a module) and ``self.stages`` (an
    ``nn.ModuleList``, its last stage ending at the map the classifier pools)
    and then call :meth:`_set_out_indices`.

    The modules must be registered in the order of the reference
    implementation: :mod:`mmcatkd.converters.teacher` maps reference
    checkpoints onto them by that order.
    """

    arch_settings: Dict[str, Any]
    stem: nn.Module
    stages: nn.ModuleList

    def _arch_setting(self, arch: str) -> Any:
        """``arch_settings[arch]``, with a clear error for an unknown arch."""
        if arch not in self.arch_settings:
            raise ConfigKeyError(
                f'unknown {type(self).__name__} arch {arch!r}: '
                f'choose one of {sorted(self.arch_settings)}.')
        self.arch = arch
        return self.arch_settings[arch]

    def _set_out_indices(self, out_indices: Union[int, Sequence[int]]):
        self.out_indices = normalize_out_indices(out_indices, len(self.stages))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Feature maps (N, C_i, H_i, W_i) of the stages in ``out_indices``."""
        feat = self.stem(x)
        outs = []
        for index, stage in enumerate(self.stages):
            feat = stage(feat)
            if index in self.out_indices:
                outs.append(feat)
        return tuple(outs)
