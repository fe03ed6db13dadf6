"""CIFAR ResNets of the CRD / MDistiller model zoo.

He, Zhang, Ren, Sun. "Deep Residual Learning for Image Recognition",
CVPR 2016, https://arxiv.org/abs/1512.03385 (Sec. 4.2: the 6n+2 CIFAR nets),
in the variants Tian, Krishnan, Isola, "Contrastive Representation
Distillation" (ICLR 2020, https://arxiv.org/abs/1910.10699) introduced for
distillation benchmarks and MDistiller (github.com/megvii-research/mdistiller,
``mdistiller/models/cifar/resnet.py`` and ``resnetv2.py``) keeps.
"""
from typing import Sequence, Union

from mmpretrain.models.backbones.resnet import (BasicBlock, Bottleneck,
                                                ResLayer, get_expansion)
from mmpretrain.registry import MODELS
from torch import nn

from .staged import REFERENCE_INIT, StagedBackbone


@MODELS.register_module()
class CIFARResNet(StagedBackbone):
    """ResNet for 32x32 inputs: a 3x3 stem, no max-pooling.

    The ``resnet*`` archs have three stages of basic blocks (16/32/64 channels,
    or 64/128/256 for the ``x4`` ones, whose stem has 32); ``resnet50`` is
    MDistiller's ``ResNet50``: four stages of bottlenecks (256 to 2048
    channels) behind a 64-channel stem. The blocks are MMPretrain's, which
    compute exactly what the reference blocks do (conv-BN-ReLU-conv-BN,
    1x1 conv + BN projection when the shape changes, ReLU after the sum).

    The CAM is taken after the last stage (after its final ReLU): 8x8 for the
    three-stage nets, 4x4 for ``resnet50`` at 32x32 input; the reference
    classifier average-pools exactly that map.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to 'resnet32x4'.
        out_indices (int | Sequence[int]): stages whose outputs to return;
            the head uses the last one. Defaults to -1 (the last stage).
        init_cfg (dict | list[dict], optional): as the reference: Kaiming
            normal (fan_out) convolutions, BN weight 1 and bias 0.
    """

    # arch: (block, blocks per stage, stem channels, first-stage channels
    # before the block's expansion; each later stage doubles them)
    arch_settings = {
        'resnet20': (BasicBlock, (3, 3, 3), 16, 16),
        'resnet32': (BasicBlock, (5, 5, 5), 16, 16),
        'resnet56': (BasicBlock, (9, 9, 9), 16, 16),
        'resnet110': (BasicBlock, (18, 18, 18), 16, 16),
        'resnet8x4': (BasicBlock, (1, 1, 1), 32, 64),
        'resnet32x4': (BasicBlock, (5, 5, 5), 32, 64),
        'resnet50': (Bottleneck, (3, 4, 6, 3), 64, 64),
    }

    def __init__(self,
                 arch: str = 'resnet32x4',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=REFERENCE_INIT):
        super().__init__(init_cfg=init_cfg)
        block, stage_blocks, stem_channels, base_channels = \
            self._arch_setting(arch)

        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels), nn.ReLU(inplace=True))

        stages = []
        in_channels = stem_channels
        out_channels = base_channels * get_expansion(block)
        for index, num_blocks in enumerate(stage_blocks):
            stages.append(
                ResLayer(
                    block,
                    num_blocks,
                    in_channels,
                    out_channels,
                    stride=1 if index == 0 else 2))
            in_channels, out_channels = out_channels, out_channels * 2
        self.stages = nn.ModuleList(stages)
        self.out_channels = in_channels
        self._set_out_indices(out_indices)
