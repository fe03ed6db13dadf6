"""The CAM-producing classification head of CAT-KD.

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777, Sec. 3.1.
"""
from typing import Optional, Tuple

import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS

from ...utils.errors import ConfigError
from ..cams import head_cams, last_feature_map


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
    takes the last one, the (N, C, H, W) map the classifier pools. As for
    every MMPretrain head, ``pre_logits`` gives the pooled (N, C) features
    (``extract_feat(stage='pre_logits')``); the map and the CAMs come from
    :meth:`feature_map` and :meth:`cams`. The logits are computed as
    ``fc(GAP(f))``, equal to ``GAP(CAM) (+ b)`` by linearity, at ``K*C``
    instead of ``K*C*H*W`` multiply-adds per image.

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

    def feature_map(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last feature map, shape (N, C, H, W)."""
        feat = last_feature_map(feats)
        if feat.dim() != 4:
            raise ConfigError(
                'CAMClsHead needs the backbone\'s last feature map (N, C, H, '
                f'W) but got shape {tuple(feat.shape)}: build the model with '
                'neck=None (a GlobalAveragePooling neck removes the map).')
        return feat

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The globally average-pooled last feature map, shape (N, C)."""
        return self.feature_map(feats).mean(dim=(2, 3))

    def cams(self,
             feats: Tuple[torch.Tensor],
             output_size: Optional[int] = None) -> torch.Tensor:
        """Class activation maps (N, K, H, W), or (N, K, r, r) when pooled:
        :func:`mmcatkd.models.cams.head_cams`, the route every model's CAMs
        take (``fc`` on the last map), after checking the map is there."""
        return head_cams(self, self.feature_map(feats), output_size)
