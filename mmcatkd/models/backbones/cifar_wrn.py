"""Wide residual networks for CIFAR of the CRD / MDistiller model zoo.

Zagoruyko, Komodakis. "Wide Residual Networks", BMVC 2016,
https://arxiv.org/abs/1605.07146, as MDistiller defines them
(github.com/megvii-research/mdistiller, ``mdistiller/models/cifar/wrn.py``).
"""
from typing import Sequence, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from .staged import REFERENCE_INIT, StagedBackbone


class WideBasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus a shortcut.

    When the width or stride changes, the 1x1 projection shortcut starts from
    the activated input ``relu(bn1(x))``, not from ``x`` (as in the authors'
    WRN code, which MDistiller follows).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        # The reference only ever widens/downsamples in a stage's first block,
        # and only when in != out; stride 2 always comes with a width change.
        self.shortcut = (None if in_channels == out_channels else nn.Conv2d(
            in_channels, out_channels, 1, stride, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        preact = self.relu(self.bn1(x))
        identity = x if self.shortcut is None else self.shortcut(preact)
        out = self.relu(self.bn2(self.conv1(preact)))
        return identity + self.conv2(out)


@MODELS.register_module()
class CIFARWideResNet(StagedBackbone):
    """WRN-d-k for 32x32 inputs: three stages of (d-4)/6 pre-activation blocks
    with 16k, 32k and 64k channels behind a 16-channel 3x3 conv.

    Pre-activation blocks leave their sum un-normalised, so the net ends with
    BN + ReLU; the last stage includes them. The CAM is taken after that final
    BN + ReLU (64k x 8 x 8 at 32x32 input), the map the reference classifier
    average-pools. Outputs of the other stages are the raw block sums, like
    the reference's ``feats``.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to 'wrn_40_2'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (the last stage).
        init_cfg (dict | list[dict], optional): as the reference: Kaiming
            normal (fan_out) convolutions, BN weight 1 and bias 0.
    """

    # arch: (depth d, widen factor k)
    arch_settings = {
        'wrn_16_2': (16, 2),
        'wrn_40_1': (40, 1),
        'wrn_40_2': (40, 2),
    }

    def __init__(self,
                 arch: str = 'wrn_40_2',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=REFERENCE_INIT):
        super().__init__(init_cfg=init_cfg)
        depth, widen_factor = self._arch_setting(arch)
        num_blocks = (depth - 4) // 6

        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        stages = []
        in_channels = 16
        for index, width in enumerate((16, 32, 64)):
            out_channels = width * widen_factor
            blocks = [
                WideBasicBlock(in_channels if i == 0 else out_channels,
                               out_channels, 2 if index > 0 and i == 0 else 1)
                for i in range(num_blocks)
            ]
            stages.append(nn.Sequential(*blocks))
            in_channels = out_channels
        stages[-1].extend([nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)])
        self.stages = nn.ModuleList(stages)
        self.out_channels = in_channels
        self._set_out_indices(out_indices)
