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
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS


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


def _fp32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in fp32 if it is in a half-precision dtype, else as is."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


def check_layer_lists(name: str, feats_S: Sequence[torch.Tensor],
                      feats_T: Sequence[torch.Tensor]) -> None:
    """Raise ``ValueError`` unless both are equally long non-empty lists."""
    if isinstance(feats_S, torch.Tensor) or isinstance(feats_T, torch.Tensor):
        raise ValueError(
            f'{name} takes one tensor per distilled layer as a list: record '
            "the blocks with a 'LayerOutputs' recorder.")
    if len(feats_S) == 0 or len(feats_S) != len(feats_T):
        raise ValueError(
            f'{name} needs the same number (>= 1) of student and teacher '
            f'layers, got {len(feats_S)} and {len(feats_T)}.')


def check_tokens(name: str, tokens_S: torch.Tensor,
                 tokens_T: torch.Tensor) -> None:
    """Raise ``ValueError`` unless both are (B, N, C) with equal B and N."""
    if (tokens_S.dim() != 3 or tokens_T.dim() != 3
            or tokens_S.shape[:2] != tokens_T.shape[:2]):
        raise ValueError(
            f'{name} expects student and teacher block outputs (B, 1+P, C) '
            'with the same batch size and number of tokens, got student '
            f'{tuple(tokens_S.shape)} and teacher {tuple(tokens_T.shape)}.')


@MODELS.register_module()
class CLSTokenLoss(nn.Module):
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

    def __init__(self,
                 last_weight: float = 4.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.last_weight = last_weight
        self.loss_weight = loss_weight

    def forward(self, cls_S: List[torch.Tensor],
                tokens_T: List[torch.Tensor]) -> torch.Tensor:
        """The loss, a scalar, computed in fp32 even under AMP.

        Args:
            cls_S (list[Tensor]): per layer, the student's projected class
                token (B, C_T).
            tokens_T (list[Tensor]): per layer, the teacher's block output
                (B, 1+P, C_T); detached here.
        """
        check_layer_lists(type(self).__name__, cls_S, tokens_T)
        layer_losses = []
        with torch.autocast(device_type=cls_S[0].device.type, enabled=False):
            for proj_S, block_T in zip(cls_S, tokens_T):
                if block_T.dim() != 3 or proj_S.shape != block_T[:, 0].shape:
                    raise ValueError(
                        'CLSTokenLoss expects projected student class tokens '
                        '(B, C_T) and teacher block outputs (B, 1+P, C_T), '
                        f'got {tuple(proj_S.shape)} and '
                        f'{tuple(block_T.shape)}: check the projector\'s '
                        'out_channels.')
                cls_T = F.normalize(_fp32(block_T.detach()[:, 0]), dim=-1)
                layer_losses.append(F.mse_loss(_fp32(proj_S), cls_T))
            loss = adaptive_layer_sum(layer_losses, self.last_weight)
        return self.loss_weight * loss


@MODELS.register_module()
class CLSPatchAttentionLoss(nn.Module):
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

    def __init__(self,
                 last_weight: float = 4.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.last_weight = last_weight
        self.loss_weight = loss_weight

    def forward(self, tokens_S: List[torch.Tensor],
                tokens_T: List[torch.Tensor]) -> torch.Tensor:
        """The loss, a scalar, computed in fp32 even under AMP.

        Args:
            tokens_S (list[Tensor]): per layer, the student's block output
                (B, 1+P, C_S).
            tokens_T (list[Tensor]): per layer, the teacher's block output
                (B, 1+P, C_T); detached here.
        """
        name = type(self).__name__
        check_layer_lists(name, tokens_S, tokens_T)
        layer_losses = []
        with torch.autocast(
                device_type=tokens_S[0].device.type, enabled=False):
            for block_S, block_T in zip(tokens_S, tokens_T):
                check_tokens(name, block_S, block_T)
                atn_S = self.cls_patch_similarity(_fp32(block_S))
                atn_T = self.cls_patch_similarity(_fp32(block_T.detach()))
                layer_losses.append(F.mse_loss(atn_S, atn_T))
            loss = adaptive_layer_sum(layer_losses, self.last_weight)
        return self.loss_weight * loss

    @staticmethod
    def cls_patch_similarity(tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1+P, C) block output -> (B, 1, P) cosine similarities."""
        cls_token = F.normalize(tokens[:, :1], dim=-1)
        patch_tokens = F.normalize(tokens[:, 1:], dim=-1)
        return cls_token @ patch_tokens.transpose(1, 2)
