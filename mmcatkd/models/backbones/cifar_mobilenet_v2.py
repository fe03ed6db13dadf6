"""MobileNetV2 for CIFAR of the CRD / MDistiller model zoo ("mobile_half").

Sandler, Howard, Zhu, Zhmoginov, Chen. "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018, https://arxiv.org/abs/1801.04381, as
MDistiller defines ``mobile_half`` (github.com/megvii-research/mdistiller,
``mdistiller/models/cifar/mobilenetv2.py``).
"""
from typing import Sequence, Union

import torch
from mmpretrain.registry import MODELS
from torch import nn

from .staged import REFERENCE_INIT, StagedBackbone


def conv_bn_relu(in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 groups: int = 1,
                 relu: bool = True) -> list:
    """Conv (no bias) + BN (+ ReLU) layers, 'same' padding."""
    layers = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False),
        nn.BatchNorm2d(out_channels)
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return layers


class InvertedResidual(nn.Module):
    """1x1 expand + ReLU, 3x3 depthwise + ReLU, 1x1 linear projection.

    Unlike MMPretrain's block, the expansion conv exists even when
    ``expand_ratio`` is 1, as in the reference.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int):
        super().__init__()
        mid_channels = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.conv = nn.Sequential(
            *conv_bn_relu(in_channels, mid_channels, 1),
            *conv_bn_relu(
                mid_channels, mid_channels, 3, stride, groups=mid_channels),
            *conv_bn_relu(mid_channels, out_channels, 1, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


@MODELS.register_module()
class CIFARMobileNetV2(StagedBackbone):
    """MobileNetV2 for 32x32 inputs, widths scaled without rounding.

    The stem keeps ImageNet's stride 2, so at 32x32 input the seven block
    groups run at 16, 16, 16, 8, 4, 4 and 2 pixels. Stages 0-6 are the block
    groups; stage 7 is the final 1x1 conv + BN + ReLU to 1280 channels.

    The CAM is taken after that final 1x1 conv's ReLU (1280 x 2 x 2 at 32x32
    input), the map the reference classifier average-pools.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to 'mobile_half'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (stage 7).
        init_cfg (dict | list[dict], optional): as the reference: Kaiming
            normal (fan_out) convolutions, BN weight 1 and bias 0.
    """

    # arch: (width multiplier, expansion ratio of the blocks after the first)
    arch_settings = {'mobile_half': (0.5, 6)}
    # per block group: expansion ratio (None: the arch's), channels at width
    # 1, number of blocks, stride of the first block (paper, Table 2)
    layer_settings = ((1, 16, 1, 1), (None, 24, 2, 1), (None, 32, 3,
                                                        2), (None, 64, 4, 2),
                      (None, 96, 3, 1), (None, 160, 3, 2), (None, 320, 1, 1))

    def __init__(self,
                 arch: str = 'mobile_half',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=REFERENCE_INIT):
        super().__init__(init_cfg=init_cfg)
        widen_factor, expand_ratio = self._arch_setting(arch)

        in_channels = int(32 * widen_factor)
        self.stem = nn.Sequential(*conv_bn_relu(3, in_channels, 3, stride=2))
        stages = []
        for ratio, channels, num_blocks, stride in self.layer_settings:
            out_channels = int(channels * widen_factor)
            blocks = []
            for i in range(num_blocks):
                blocks.append(
                    InvertedResidual(in_channels, out_channels,
                                     stride if i == 0 else 1, ratio
                                     or expand_ratio))
                in_channels = out_channels
            stages.append(nn.Sequential(*blocks))
        # The reference widens the last conv only for multipliers above 1.
        last_channels = int(1280 * max(widen_factor, 1.0))
        stages.append(
            nn.Sequential(*conv_bn_relu(in_channels, last_channels, 1)))
        self.stages = nn.ModuleList(stages)
        self.out_channels = last_channels
        self._set_out_indices(out_indices)
