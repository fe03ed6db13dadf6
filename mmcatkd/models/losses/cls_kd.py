"""[CLS]-KD losses: "Adaptive class token knowledge distillation for
efficient vision transformer".

Kang, Son, Kim. Knowledge-Based Systems 304, 112531, 2024.
https://doi.org/10.1016/j.knosys.2024.112531
Code: https://github.com/kmc3661/CLS-KD (``losses.py``).

Both losses take the outputs of the same n paired transformer blocks of
student and teacher as lists (block outputs (B, 1+P, C) before the final
norm, from a ``LayerOutputsRecorder``) and combine the n per-layer losses
with :func:`adaptive_layer_sum`.
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from ...utils.errors import ConfigError
from .layerwise import LayerwiseLoss, check_tokens


def adaptive_layer_sum(layer_losses: Sequence[torch.Tensor],
                       last_weight: float) -> torch.Tensor:
    """[CLS]-KD's adaptive weighting of the per-layer losses L_1..L_n.

    w_i = n * L_i / S with S = sum_j L_j; the last layer's term is further
    multiplied by ``last_weight`` (c_n = last_weight, c_i = 1 otherwise):

        term = sum_i c_i * w_i * L_i / n = sum_i c_i * L_i**2 / S.

    As in the authors' code the weights are not detached, so
    d term / d L_k = 2 * c_k * L_k / S - sum_i c_i * L_i**2 / S**2: a layer
    whose loss is small next to the others gets a negative gradient. S is
    clamped at 1e-12, so n zero losses give 0 rather than NaN.

    Args:
        layer_losses (Sequence[Tensor]): n >= 1 scalar losses, in layer order.
        last_weight (float): c_n, the authors' ``--last-w``.
    """
    losses = torch.stack(list(layer_losses))
    num_layers = losses.numel()
    weights = losses / losses.sum().clamp_min(1e-12) * num_layers
    scale = torch.ones_like(losses)
    scale[-1] = last_weight
    return (losses * weights * scale).sum() / num_layers


class _AdaptiveLayerLoss(LayerwiseLoss):
    """Layer losses combined by :func:`adaptive_layer_sum`."""

    def __init__(self,
                 last_weight: float = 4.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        self.last_weight = last_weight

    def combine(self, layer_losses: List[torch.Tensor]) -> torch.Tensor:
        return adaptive_layer_sum(layer_losses, self.last_weight)


@MODELS.register_module()
class CLSTokenLoss(_AdaptiveLayerLoss):
    """[CLS]-KD's class-token loss (Kang et al., KBS 2024).

    "Adaptive class token knowledge distillation for efficient vision
    transformer", https://doi.org/10.1016/j.knosys.2024.112531

    Per layer pair i: L_i = mean over (B, C_T) of
    (normalize(tokens_T[:, 0]) - proj(normalize(tokens_S[:, 0])))**2, where
    the student side arrives already projected to the teacher's width by a
    ``CLSTokenProjector`` connector shared by all layers. The L_i are
    combined by :func:`adaptive_layer_sum`.

    Args:
        last_weight (float): extra weight of the last layer's term, the
            authors' ``--last-w``. Defaults to 4.0.
        loss_weight (float): the authors' ``--w-cls``. Defaults to 1.0.
    """

    def forward(self, cls_S: List[torch.Tensor],
                tokens_T: List[torch.Tensor]) -> torch.Tensor:
        """The loss, a scalar, computed in fp32 even under AMP.

        Args:
            cls_S (list[Tensor]): per layer, the student's projected class
                token (B, C_T).
            tokens_T (list[Tensor]): per layer, the teacher's block output
                (B, 1+P, C_T); detached here.
        """
        return super().forward(cls_S, tokens_T)

    def layer_loss(self, proj_S: torch.Tensor,
                   block_T: torch.Tensor) -> torch.Tensor:
        if block_T.dim() != 3 or proj_S.shape != block_T[:, 0].shape:
            raise ConfigError(
                'CLSTokenLoss expects projected student class tokens '
                '(B, C_T) and teacher block outputs (B, 1+P, C_T), got '
                f'{tuple(proj_S.shape)} and {tuple(block_T.shape)}: check '
                'the projector\'s out_channels.')
        return F.mse_loss(proj_S, F.normalize(block_T[:, 0], dim=-1))


@MODELS.register_module()
class CLSPatchAttentionLoss(_AdaptiveLayerLoss):
    """[CLS]-KD's CLS-patch attention loss (Kang et al., KBS 2024).

    "Adaptive class token knowledge distillation for efficient vision
    transformer", https://doi.org/10.1016/j.knosys.2024.112531

    Not the attention weights of the blocks: per layer pair i and model, the
    cosine similarity between the class token and every patch token of the
    block output, atn = normalize(x[:, :1]) @ normalize(x[:, 1:])^T, shape
    (B, 1, P). L_i = mean over (B, P) of (atn_T - atn_S)**2, on the student's
    own (unprojected) tokens, so the widths may differ; B and P must agree.
    The L_i are combined by :func:`adaptive_layer_sum`, with weights of their
    own (not those of :class:`CLSTokenLoss`).

    Args:
        last_weight (float): extra weight of the last layer's term, the
            authors' ``--last-w``. Defaults to 4.0.
        loss_weight (float): the authors' ``--w-atn``. Defaults to 1.0.
    """

    def layer_loss(self, block_S: torch.Tensor,
                   block_T: torch.Tensor) -> torch.Tensor:
        check_tokens(type(self).__name__, block_S, block_T)
        return F.mse_loss(
            self.cls_patch_similarity(block_S),
            self.cls_patch_similarity(block_T))

    @staticmethod
    def cls_patch_similarity(tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1+P, C) block output -> (B, 1, P) cosine similarities."""
        cls_token = F.normalize(tokens[:, :1], dim=-1)
        patch_tokens = F.normalize(tokens[:, 1:], dim=-1)
        return cls_token @ patch_tokens.transpose(1, 2)
