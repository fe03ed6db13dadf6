"""MobileNetV1 for ImageNet, the student of the ReviewKD and DKD papers.

Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto, Adam. "MobileNets:
Efficient Convolutional Neural Networks for Mobile Vision Applications",
arXiv 2017, https://arxiv.org/abs/1704.04861, as ReviewKD and MDistiller
define it (github.com/megvii-research/mdistiller,
``mdistiller/models/imagenet/mobilenetv1.py``; 4,231,976 parameters with the
1000-way classifier).
"""
from typing import Sequence, Union

from mmpretrain.registry import MODELS
from torch import nn

from .staged import StagedBackbone


def depthwise_separable(in_channels: int, out_channels: int,
                        stride: int) -> nn.Sequential:
    """Depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            in_channels,
            3,
            stride,
            padding=1,
            groups=in_channels,
            bias=False), nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


@MODELS.register_module()
class MobileNetV1(StagedBackbone):
    """MobileNetV1 (width 1.0): a 3x3 stride-2 conv, then 13 depthwise
    separable layers grouped into four stages by output resolution, as the
    reference's features (56, 28, 14 and 7 pixels at 224x224 input).

    The CAM is taken after the last layer's ReLU (1024 x 7 x 7 at 224x224
    input), the map the reference classifier average-pools.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to '1.0x'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (the last stage).
        init_cfg (dict | list[dict], optional): Defaults to None: PyTorch's
            default initialisation, as in the reference.
    """

    # arch: (stem channels, per stage the (output channels, stride) of each
    # depthwise separable layer)
    arch_settings = {
        '1.0x': (32, (
            ((64, 1), (128, 2), (128, 1)),
            ((256, 2), (256, 1)),
            ((512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1)),
            ((1024, 2), (1024, 1)),
        )),
    }

    def __init__(self,
                 arch: str = '1.0x',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        stem_channels, stage_layers = self._arch_setting(arch)

        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_channels, 3, 2, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels), nn.ReLU(inplace=True))
        stages = []
        in_channels = stem_channels
        for layers in stage_layers:
            stage = []
            for out_channels, stride in layers:
                stage.append(
                    depthwise_separable(in_channels, out_channels, stride))
                in_channels = out_channels
            stages.append(nn.Sequential(*stage))
        self.stages = nn.ModuleList(stages)
        self.out_channels = in_channels
        self._set_out_indices(out_indices)
