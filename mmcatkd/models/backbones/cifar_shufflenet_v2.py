"""ShuffleNetV2 for CIFAR of the CRD / MDistiller model zoo.

Ma, Zhang, Zheng, Sun. "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", ECCV 2018, https://arxiv.org/abs/1807.11164, as
MDistiller defines ``ShuffleV2`` (github.com/megvii-research/mdistiller,
``mdistiller/models/cifar/ShuffleNetv2.py``).
"""
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle
from mmpretrain.registry import MODELS
from torch import nn

from .staged import StagedBackbone


def depthwise_conv3x3(channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(
        channels, channels, 3, stride, padding=1, groups=channels, bias=False)


class DownsampleUnit(nn.Module):
    """Stride-2 unit: two branches on the full input, concatenated, shuffled.

    Left: depthwise 3x3 (stride 2) + BN, 1x1 + BN + ReLU. Right: 1x1 + BN +
    ReLU, depthwise 3x3 (stride 2) + BN, 1x1 + BN + ReLU. Each makes half of
    ``out_channels``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        mid_channels = out_channels // 2
        self.conv1 = depthwise_conv3x3(in_channels, stride=2)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid_channels)
        self.conv4 = depthwise_conv3x3(mid_channels, stride=2)
        self.bn4 = nn.BatchNorm2d(mid_channels)
        self.conv5 = nn.Conv2d(mid_channels, mid_channels, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], dim=1), 2)


class BasicUnit(nn.Module):
    """Stride-1 unit: the first half of the channels passes unchanged, the
    second goes through 1x1 + BN + ReLU, depthwise 3x3 + BN, 1x1 + BN + ReLU;
    the halves are concatenated in that order and shuffled."""

    def __init__(self, channels: int):
        super().__init__()
        self.split_channels = channels // 2
        half = channels - self.split_channels
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = depthwise_conv3x3(half)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = x[:, :self.split_channels]
        out = F.relu(self.bn1(self.conv1(x[:, self.split_channels:])))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([kept, out], dim=1), 2)


@MODELS.register_module()
class CIFARShuffleNetV2(StagedBackbone):
    """ShuffleNetV2 for 32x32 inputs: a 1x1 conv stem with 24 channels, three
    stages (a stride-2 unit followed by stride-1 units) and a final 1x1 conv
    + BN + ReLU, which is stage 3.

    The CAM is taken after that final 1x1 conv's ReLU (1024 x 4 x 4 at 32x32
    input for '1.0x'), the map the reference classifier average-pools.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to '1.0x'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (the final conv).
        init_cfg (dict | list[dict], optional): Defaults to None: PyTorch's
            default initialisation, as in the reference.
    """

    # arch (the reference's net size): (output channels per stage,
    # stride-1 units per stage after the stride-2 one, final conv channels)
    arch_settings = {'1.0x': ((116, 232, 464), (3, 7, 3), 1024)}
    stem_channels = 24

    def __init__(self,
                 arch: str = '1.0x',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        stage_channels, stage_units, last_channels = self._arch_setting(arch)

        self.stem = nn.Sequential(
            nn.Conv2d(3, self.stem_channels, 1, bias=False),
            nn.BatchNorm2d(self.stem_channels), nn.ReLU(inplace=True))
        stages = []
        in_channels = self.stem_channels
        for out_channels, num_units in zip(stage_channels, stage_units):
            stages.append(
                nn.Sequential(
                    DownsampleUnit(in_channels, out_channels),
                    *(BasicUnit(out_channels) for _ in range(num_units))))
            in_channels = out_channels
        stages.append(
            nn.Sequential(
                nn.Conv2d(in_channels, last_channels, 1, bias=False),
                nn.BatchNorm2d(last_channels), nn.ReLU(inplace=True)))
        self.stages = nn.ModuleList(stages)
        self.out_channels = last_channels
        self._set_out_indices(out_indices)
