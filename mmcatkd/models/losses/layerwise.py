"""The shared frame of the losses over n paired transformer blocks.

[CLS]-KD (Kang, Son, Kim, Knowledge-Based Systems 2024) and manifold
distillation (Hao et al., NeurIPS 2022) compare the outputs of the same n
student and teacher blocks, one loss per pair, combined into one scalar.
"""
from typing import List, Sequence

import torch
import torch.nn as nn

from ...utils import at_least_fp32, fp32_region
from ...utils.errors import ConfigError


def check_layer_lists(name: str, feats_S: Sequence[torch.Tensor],
                      feats_T: Sequence[torch.Tensor]) -> None:
    """Raise ``ValueError`` unless both are equally long non-empty lists."""
    if isinstance(feats_S, torch.Tensor) or isinstance(feats_T, torch.Tensor):
        raise ConfigError(
            f'{name} takes one tensor per distilled layer as a list: record '
            "the blocks with a 'LayerOutputs' recorder.")
    if len(feats_S) == 0 or len(feats_S) != len(feats_T):
        raise ConfigError(
            f'{name} needs the same number (>= 1) of student and teacher '
            f'layers, got {len(feats_S)} and {len(feats_T)}.')


def check_tokens(name: str, tokens_S: torch.Tensor,
                 tokens_T: torch.Tensor) -> None:
    """Raise ``ValueError`` unless both are (B, N, C) with equal B and N."""
    if (tokens_S.dim() != 3 or tokens_T.dim() != 3
            or tokens_S.shape[:2] != tokens_T.shape[:2]):
        raise ConfigError(
            f'{name} expects student and teacher block outputs (B, 1+P, C) '
            'with the same batch size and number of tokens, got student '
            f'{tuple(tokens_S.shape)} and teacher {tuple(tokens_T.shape)}.')


class LayerwiseLoss(nn.Module):
    """``loss_weight * combine([layer_loss(S_i, T_i) for i in 1..n])``.

    Subclasses define :meth:`layer_loss` (one pair, fp32 inputs, the
    teacher's detached) and may replace :meth:`combine` (the mean by
    default). The whole loss is computed in fp32 even under AMP.

    Args:
        loss_weight (float): weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, tokens_S: List[torch.Tensor],
                tokens_T: List[torch.Tensor]) -> torch.Tensor:
        """The loss, a scalar.

        Args:
            tokens_S (list[Tensor]): per layer, the student's output.
            tokens_T (list[Tensor]): per layer, the teacher's output;
                detached here.
        """
        check_layer_lists(type(self).__name__, tokens_S, tokens_T)
        with fp32_region(tokens_S[0]):
            layer_losses = [
                self.layer_loss(
                    at_least_fp32(block_S), at_least_fp32(block_T.detach()))
                for block_S, block_T in zip(tokens_S, tokens_T)
            ]
            return self.loss_weight * self.combine(layer_losses)

    def layer_loss(self, block_S: torch.Tensor,
                   block_T: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def combine(self, layer_losses: List[torch.Tensor]) -> torch.Tensor:
        """The mean of the n per-layer losses."""
        return torch.stack(layer_losses).mean()
