"""ShuffleNetV1 for CIFAR of the CRD / MDistiller model zoo.

Zhang, Zhou, Lin, Sun. "ShuffleNet: An Extremely Efficient Convolutional
Neural Network for Mobile Devices", CVPR 2018,
https://arxiv.org/abs/1707.01083, as MDistiller defines ``ShuffleV1``
(github.com/megvii-research/mdistiller, ``mdistiller/models/cifar/
ShuffleNetv1.py``).
"""
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle
from mmpretrain.registry import MODELS
from torch import nn

from .staged import StagedBackbone


class ShuffleUnit(nn.Module):
    """Grouped 1x1 conv, channel shuffle, 3x3 depthwise, grouped 1x1 conv.

    With stride 2 the branch output is concatenated with a 3x3 average-pooled
    shortcut (so the branch makes ``out_channels - in_channels`` channels);
    with stride 1 it is added to the input. ReLU follows the first 1x1 conv,
    the depthwise conv (the reference has this one; the paper does not) and
    the merge.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels after the merge.
        stride (int): 1 or 2.
        groups (int): groups of the 1x1 convs.
        first_conv_groups (int): groups of the first 1x1 conv; the paper
            leaves it ungrouped in the network's first unit, whose input is
            only the stem's 24 channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 groups: int, first_conv_groups: int):
        super().__init__()
        self.stride = stride
        self.first_conv_groups = first_conv_groups
        branch_channels = out_channels - (in_channels if stride == 2 else 0)
        mid_channels = branch_channels // 4
        self.conv1 = nn.Conv2d(
            in_channels, mid_channels, 1, groups=first_conv_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(
            mid_channels,
            mid_channels,
            3,
            stride,
            padding=1,
            groups=mid_channels,
            bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(
            mid_channels, branch_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_channels)
        # count_include_pad=True (PyTorch's default), as in the reference.
        self.shortcut = (
            nn.AvgPool2d(3, stride=2, padding=1)
            if stride == 2 else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_conv_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.shortcut(x)
        if self.stride == 2:
            return F.relu(torch.cat([out, identity], dim=1))
        return F.relu(out + identity)


@MODELS.register_module()
class CIFARShuffleNetV1(StagedBackbone):
    """ShuffleNetV1 for 32x32 inputs: a 1x1 conv stem with 24 channels, then
    three stages that each start with a stride-2 unit.

    The CAM is taken after the last stage (960 x 4 x 4 at 32x32 input for
    'g3'), the map the reference classifier average-pools.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to 'g3'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (the last stage).
        init_cfg (dict | list[dict], optional): Defaults to None: PyTorch's
            default initialisation, as in the reference.
    """

    # arch: (groups, output channels per stage, units per stage)
    arch_settings = {'g3': (3, (240, 480, 960), (4, 8, 4))}
    stem_channels = 24

    def __init__(self,
                 arch: str = 'g3',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        groups, stage_channels, stage_units = self._arch_setting(arch)

        self.stem = nn.Sequential(
            nn.Conv2d(3, self.stem_channels, 1, bias=False),
            nn.BatchNorm2d(self.stem_channels), nn.ReLU(inplace=True))
        stages = []
        in_channels = self.stem_channels
        for index, (out_channels,
                    num_units) in enumerate(zip(stage_channels, stage_units)):
            units = []
            for i in range(num_units):
                first_unit = index == 0 and i == 0
                units.append(
                    ShuffleUnit(
                        in_channels,
                        out_channels,
                        stride=2 if i == 0 else 1,
                        groups=groups,
                        first_conv_groups=1 if first_unit else groups))
                in_channels = out_channels
            stages.append(nn.Sequential(*units))
        self.stages = nn.ModuleList(stages)
        self.out_channels = in_channels
        self._set_out_indices(out_indices)
