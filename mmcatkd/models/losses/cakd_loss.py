"""CAKD's distillation term: "Cross-Architecture Knowledge Distillation".

Liu, Cao, Li, Hu, Ding, Li. ACCV 2022, https://arxiv.org/abs/2207.05273
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS

from ...utils import fp32_region
from ...utils.errors import ConfigError


@MODELS.register_module()
class CAKDLoss(nn.Module):
    """Mean squared error between a student projection and a teacher target.

    "Cross-Architecture Knowledge Distillation", Liu et al., ACCV 2022.
    https://arxiv.org/abs/2207.05273

    CAKD sums five such terms (authors' released code): QK maps (weight
    0.2), VV maps (0.05), logits (1), class tokens (1) and patch tokens
    (0.05), all times the epoch schedule lambda(e) the algorithm applies.
    Unlike MMRazor's ``L2Loss``, shapes must match exactly: a broadcast
    would silently compare e.g. a 14 x 14 student grid with a 384 px
    teacher's 24 x 24 one.

    Args:
        loss_weight (float): weight of this term. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        """The mean over all elements, a scalar, in fp32 even under AMP.

        Args:
            s_feature (Tensor): student projection, any shape.
            t_feature (Tensor): teacher target, the same shape; detached.
        """
        if s_feature.shape != t_feature.shape:
            raise ConfigError(
                f'student {tuple(s_feature.shape)} and teacher '
                f'{tuple(t_feature.shape)} shapes differ: the student token '
                'grid (its stage-3 map) must equal the teacher patch grid and '
                'the connectors must project to the teacher widths.')
        # squared over millions of token elements, fp16 loses the small terms
        with fp32_region(s_feature):
            loss = F.mse_loss(s_feature.float(), t_feature.detach().float())
        return self.loss_weight * loss
