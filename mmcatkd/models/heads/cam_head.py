"""The CAM-producing classification head of CAT-KD.

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777, Sec. 3.1.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS


def class_activation_maps(feat: torch.Tensor,
                          fc_weight: torch.Tensor,
                          output_size: Optional[int] = None) -> torch.Tensor:
    """Class activation maps ``CAM_k(x, y) = sum_c w_kc f_c(x, y)`` (Eq. 2).

    The classifier's weights act as a bias-free 1x1 convolution on the feature
    map. Adaptive average pooling and that convolution are both linear maps
    that act on different axes, so they commute: with ``output_size`` the
    feature map is pooled first, which gives the same CAMs as pooling full
    CAMs and saves ``K*C*(H*W - r*r)`` multiply-adds per image.

    Args:
        feat (Tensor): the map the classifier pools, shape (N, C, H, W).
        fc_weight (Tensor): the classifier's weight, shape (K, C).
        output_size (int, optional): pool to (r, r) before the 1x1 conv.
            Defaults to None (full-resolution CAMs).

    Returns:
        Tensor: CAMs, shape (N, K, H, W) or (N, K, r, r).
    """
    if feat.dim() != 4:
        raise ValueError('class activation maps need a feature map of shape '
                         f'(N, C, H, W), got shape {tuple(feat.shape)}: the '
                         'map must be taken before global pooling.')
    if feat.shape[1] != fc_weight.shape[1]:
        raise ValueError(f'the feature map has {feat.shape[1]} channels but '
                         f'the classifier expects {fc_weight.shape[1]}.')
    if output_size is not None:
        feat = F.adaptive_avg_pool2d(feat, output_size)
    return F.conv2d(feat, fc_weight[:, :, None, None].to(feat.dtype))


@MODELS.register_module()
class CAMClsHead(LinearClsHead):
    """Classification head that exposes class activation maps (CAT-KD, Eq. 2).

    CAT-KD moves the classifier in front of global average pooling: with
    ``CAM_k = sum_c w_kc f_c`` (Eq. 2) the logits are ``GAP(CAM_k)`` (Eq. 3,
    no bias), which is what the authors' students compute (their
    ``conv_test``: a bias-free 1x1 convolution). ``bias=True`` adds a bias
    ``b_k`` after pooling, as MMPretrain's heads and the teachers have: the
    outputs then equal those of ``GlobalAveragePooling`` + ``LinearClsHead``
    with the same ``fc.weight`` (K, C) and ``fc.bias`` (K,), so a
    ``LinearClsHead`` checkpoint loads strictly. The CAMs never include the
    bias.

    Use it with ``neck=None``: the head receives the backbone's outputs and
    takes the last one, the (N, C, H, W) map the classifier pools.

    Initialisation is ``init_cfg`` (MMEngine's); ``None`` keeps PyTorch's
    ``nn.Linear`` default (weight and bias U(+-1/sqrt(C))), which equals the
    default init of the authors' (K, C, 1, 1) ``conv_test``.

    Args:
        num_classes (int): number of classes K.
        in_channels (int): channels C of the last feature map.
        bias (bool): add a learnt bias to the logits. Defaults to True
            (MMPretrain's heads); the paper's CAT-KD students use False.
        **kwargs: as :class:`mmpretrain.models.heads.LinearClsHead`
            (``loss``, ``topk``, ``cal_acc``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 bias: bool = True,
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        if not bias:
            self.fc = torch.nn.Linear(in_channels, num_classes, bias=False)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last feature map, shape (N, C, H, W)."""
        feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
        if feat.dim() != 4:
            raise ValueError(
                'CAMClsHead needs the backbone\'s last feature map (N, C, H, '
                f'W) but got shape {tuple(feat.shape)}: build the model with '
                'neck=None (a GlobalAveragePooling neck removes the map).')
        return feat

    def cams(self,
             feats: Tuple[torch.Tensor],
             output_size: Optional[int] = None) -> torch.Tensor:
        """Class activation maps (N, K, H, W), or (N, K, r, r) when pooled.

        See :func:`class_activation_maps`.
        """
        return class_activation_maps(
            self.pre_logits(feats), self.fc.weight, output_size)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Logits (N, K): the spatial mean of the CAMs (Eq. 3), plus the bias
        when the head has one.

        By linearity ``mean_xy(conv1x1(f)) = fc(mean_xy(f))``; the logits are
        computed in the second form, which costs ``K*C`` instead of
        ``K*C*H*W`` multiply-adds per image.
        """
        return self.fc(self.pre_logits(feats).mean(dim=(2, 3)))
