"""VGG with batch normalisation for CIFAR of the CRD / MDistiller model zoo.

Simonyan, Zisserman. "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, https://arxiv.org/abs/1409.1556, as MDistiller
defines ``vgg8_bn`` / ``vgg13_bn`` (github.com/megvii-research/mdistiller,
``mdistiller/models/cifar/vgg.py``).
"""
from typing import Sequence, Union

from mmpretrain.registry import MODELS
from torch import nn

from .staged import REFERENCE_INIT, StagedBackbone


@MODELS.register_module()
class CIFARVGG(StagedBackbone):
    """VGG for 32x32 inputs: five blocks of conv3x3 (with bias) + BN + ReLU.

    A 2x2 max-pool precedes blocks 1, 2 and 3 only: at 32x32 input the
    reference skips the pool between blocks 3 and 4 (it applies it to 64x64
    inputs only), so blocks 3 and 4 both run at 4x4. Each block is a stage.

    The CAM is taken after block 4's ReLU (512 x 4 x 4 at 32x32 input), the
    map the reference classifier average-pools.

    Args:
        arch (str): one of :attr:`arch_settings`. Defaults to 'vgg13'.
        out_indices (int | Sequence[int]): blocks whose outputs to return;
            the head uses the last one. Defaults to -1 (block 4).
        init_cfg (dict | list[dict], optional): as the reference: Kaiming
            normal (fan_out) convolutions with zero bias, BN weight 1 and
            bias 0.
    """

    # arch: output channels of each conv, per block
    arch_settings = {
        'vgg8': ((64, ), (128, ), (256, ), (512, ), (512, )),
        'vgg13': ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    }
    # blocks entered through a 2x2 max-pool at 32x32 input
    pooled_blocks = (1, 2, 3)

    def __init__(self,
                 arch: str = 'vgg13',
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg=REFERENCE_INIT):
        super().__init__(init_cfg=init_cfg)
        self._arch_setting(arch)

        self.stem = nn.Identity()
        stages = []
        in_channels = 3
        for index, block_channels in enumerate(self.arch_settings[arch]):
            layers = []
            if index in self.pooled_blocks:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            for out_channels in block_channels:
                layers += [
                    nn.Conv2d(in_channels, out_channels, 3, padding=1),
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(inplace=True)
                ]
                in_channels = out_channels
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.out_channels = in_channels
        self._set_out_indices(out_indices)
