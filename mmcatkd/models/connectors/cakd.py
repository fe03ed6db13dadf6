"""Projectors of "Cross-Architecture Knowledge Distillation" (CAKD).

Liu, Cao, Li, Hu, Ding, Li. ACCV 2022. https://arxiv.org/abs/2207.05273

A ViT teacher is distilled into a CNN student through relation maps and
tokens the student side projects into the teacher's spaces:

- ``PartialCrossAttentionConnector``: the student's QK and VV maps from its
  stage-3 feature map (the partially cross attention projector);
- ``GroupwiseLinearConnector``: the student's patch tokens, one linear layer
  per block of the token grid (the group-wise linear projector);
- ``ClassTokenConnector``: a class-token estimate from the pooled last stage;
- ``QKVAttentionConnector``: the teacher's QK and VV maps from the recorded
  output of an MMPretrain ``MultiheadAttention.qkv`` (the attention module
  does not return its weights; the ``qkv`` Linear output holds q, k, v);
- ``PatchTokensConnector``: the teacher's patch tokens without the class
  token.

All relation maps are attention logits (before softmax) averaged over the
heads, as in the authors' released code. Tokens of a (B, C, H, W) map are
taken row by row, the order of a ViT's patch tokens.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS

from ...utils import fp32_region
from ...utils.errors import ConfigError

RELATIONS = ('qk', 'vv')


def feature_tokens(feature: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H*W, C), row by row like ViT patch tokens."""
    if feature.dim() != 4:
        raise ConfigError('expected a feature map (B, C, H, W), got shape '
                          f'{tuple(feature.shape)}.')
    return feature.flatten(2).transpose(1, 2)


def head_averaged_logits(left: torch.Tensor, right: torch.Tensor,
                         num_heads: int, scale: float) -> torch.Tensor:
    """mean over heads of ``scale * left_h @ right_h^T``, (B, N, N), fp32.

    ``left`` and ``right`` are (B, N, heads * head_dims) with each head's
    channels contiguous. The sum over heads of the per-head products is the
    product over all channels, so the heads never need splitting.
    """
    # Under AMP an unscaled v v^T summed over 768 channels nears fp16's
    # range; in fp32 the product costs little next to the projections.
    with fp32_region(left):
        logits = left.float() @ right.float().transpose(-2, -1)
    return logits * (scale / num_heads)


def _check_relation(relation: str) -> None:
    if relation not in RELATIONS:
        raise ConfigError(f"relation must be 'qk' or 'vv', got {relation!r}.")


@MODELS.register_module()
class PartialCrossAttentionConnector(BaseConnector):
    """The student's QK or VV map, CAKD's partially cross attention projector.

    Tokens (B, N, C) of a (B, C, H, W) map are projected by a bias-free
    Linear into q, k, v of ``num_heads`` heads of ``head_dims``;
    ``relation='qk'`` gives S_qk = q k^T / sqrt(head_dims) and
    ``relation='vv'`` S_vv = v v^T / sqrt(head_dims), each averaged over the
    heads, before softmax: (B, N, N).

    The authors project with one ``Linear(C, 3 * heads * head_dims,
    bias=False)``. Its q, k and v blocks are independent and S_qk uses only
    the first two, S_vv only the third, so one connector per relation (the
    ``relation='qk'`` one holds the q and k blocks, the ``'vv'`` one the v
    block) is the same model with the same initialisation, and
    ConfigurableDistiller, which calls a connector once per loss argument,
    computes each block once.

    Args:
        in_channels (int): C of the student feature map (1024 for the
            ResNet-50 stage 3).
        relation (str): 'qk' or 'vv'.
        num_heads (int): heads averaged over. Defaults to 16.
        head_dims (int): channels per head. Defaults to 64.
        scale_vv (bool): scale S_vv by 1 / sqrt(head_dims) too, as the
            authors' student side does. Defaults to True.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 relation: str,
                 num_heads: int = 16,
                 head_dims: int = 64,
                 scale_vv: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        _check_relation(relation)
        self.relation = relation
        self.num_heads = num_heads
        self.head_dims = head_dims
        self.scale_vv = scale_vv
        blocks = 2 if relation == 'qk' else 1
        self.proj = nn.Linear(
            in_channels, blocks * num_heads * head_dims, bias=False)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> the head-averaged relation logits (B, H*W, H*W)."""
        projected = self.proj(feature_tokens(feature))
        scale = self.head_dims**-0.5
        if self.relation == 'qk':
            query, key = projected.chunk(2, dim=-1)
            return head_averaged_logits(query, key, self.num_heads, scale)
        return head_averaged_logits(projected, projected, self.num_heads,
                                    scale if self.scale_vv else 1.0)


@MODELS.register_module()
class QKVAttentionConnector(BaseConnector):
    """The teacher's QK or VV map from a recorded ``qkv`` Linear output.

    MMPretrain's ``MultiheadAttention`` reshapes ``qkv(x)`` (B, N, 3 * C) to
    (B, N, 3, heads, C / heads): q, k and v are its three thirds, each head's
    channels contiguous. ``relation='qk'`` gives T_qk = (q / sqrt(d_h)) k^T,
    the logits the attention softmaxes, and ``relation='vv'`` T_vv = v v^T
    (unscaled, as in the authors' code), each averaged over the heads and
    restricted to the patch tokens (the first ``num_extra_tokens`` rows and
    columns, the class token, dropped): (B, N - extra, N - extra).

    Record ``backbone.layers.<i>.attn.qkv`` with ``ModuleOutputs`` (CAKD uses
    the last block, ``layers.11`` of ViT-B).

    Args:
        num_heads (int): the attention's heads (12 for ViT-B).
        relation (str): 'qk' or 'vv'.
        num_extra_tokens (int): leading non-patch tokens. Defaults to 1.
        scale_vv (bool): scale T_vv by 1 / sqrt(d_h). Defaults to False.
        init_cfg (dict, optional): unused (no parameters).
    """

    def __init__(self,
                 num_heads: int,
                 relation: str,
                 num_extra_tokens: int = 1,
                 scale_vv: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        _check_relation(relation)
        self.num_heads = num_heads
        self.relation = relation
        self.num_extra_tokens = num_extra_tokens
        self.scale_vv = scale_vv

    def forward_train(self, qkv: torch.Tensor) -> torch.Tensor:
        """(B, N, 3 * C) -> (B, N - extra, N - extra)."""
        if qkv.dim() != 3 or qkv.shape[-1] % (3 * self.num_heads):
            raise ConfigError(
                'expected the output of an attention qkv Linear, (B, N, '
                f'3 * C) with C divisible by num_heads={self.num_heads}, got '
                f'shape {tuple(qkv.shape)}: record `...attn.qkv` with '
                'ModuleOutputs and check num_heads.')
        query, key, value = qkv[:, self.num_extra_tokens:].chunk(3, dim=-1)
        scale = (query.shape[-1] // self.num_heads)**-0.5
        if self.relation == 'qk':
            return head_averaged_logits(query, key, self.num_heads, scale)
        return head_averaged_logits(value, value, self.num_heads,
                                    scale if self.scale_vv else 1.0)


def _pair(value: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    rows, cols = value
    return int(rows), int(cols)


def token_groups(grid: Tuple[int, int],
                 groups: Union[int, Sequence[int]]) -> List[torch.Tensor]:
    """Row-major token indices of each block of an H x W token grid.

    The grid is cut into ``groups`` (rows x cols) blocks of
    ceil(H / rows) x ceil(W / cols) tokens, the last row and column of blocks
    taking what is left (the authors' layout: a 14 x 14 grid in 4 x 4 groups
    gives blocks of 4, 4, 4 and 2 tokens per side). Blocks are listed row by
    row.

    Raises:
        ValueError: a block would be empty (e.g. 9 tokens in 4 groups of 3).
    """
    height, width = grid
    rows, cols = _pair(groups)
    bounds = []
    for side, count in ((height, rows), (width, cols)):
        block = math.ceil(side / count) if count >= 1 else 0
        if count < 1 or (count - 1) * block >= side:
            raise ConfigError(
                f'a {height} x {width} token grid cannot be cut into '
                f'{rows} x {cols} non-empty blocks of ceil(side / groups) '
                'tokens: choose other `groups` for this grid (4 works for '
                'sides 4, 7, 8 and 10 or more, e.g. the 14 x 14 grid of 224 '
                'px).')
        bounds.append([(start, min(start + block, side))
                       for start in range(0, side, block)])
    index = torch.arange(height * width).view(height, width)
    return [
        index[top:bottom, left:right].flatten() for top, bottom in bounds[0]
        for left, right in bounds[1]
    ]


@MODELS.register_module()
class GroupwiseLinearConnector(BaseConnector):
    """The student's patch tokens, CAKD's group-wise linear projector.

    The tokens of a (B, C, H, W) map are cut into ``groups`` spatial blocks
    (see :func:`token_groups`; the block size follows from H and W, so the
    same projector works at any input size) and each block has its own
    ``Linear(C, out_channels)``: (B, H*W, out_channels) in row-major token
    order, the teacher's patch order.

    Args:
        in_channels (int): C of the student map (1024 for ResNet-50 stage 3).
        out_channels (int): the teacher's token width (768 for ViT-B).
        groups (int | tuple[int, int]): blocks per column and per row.
            Defaults to 4 (16 blocks, 16 linear layers).
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 groups: Union[int, Sequence[int]] = 4,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.groups = _pair(groups)
        self.linears = nn.ModuleList(
            nn.Linear(in_channels, out_channels)
            for _ in range(self.groups[0] * self.groups[1]))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, H*W, out_channels)."""
        tokens = feature_tokens(feature)
        blocks = [
            index.to(feature.device)
            for index in token_groups(feature.shape[-2:], self.groups)
        ]
        projected = torch.cat([
            linear(tokens[:, index])
            for linear, index in zip(self.linears, blocks)
        ],
                              dim=1)
        # rows of `projected` are the tokens in block order: put them back
        return projected[:, torch.cat(blocks).argsort()]


@MODELS.register_module()
class ClassTokenConnector(BaseConnector):
    """A class-token estimate from the student's last stage.

    ``Linear(in_channels, out_channels)`` on the globally averaged feature:
    a (B, C, H, W) map is averaged over H x W, a pooled (B, C) feature (a GAP
    neck's output) is used as it is.

    Args:
        in_channels (int): C of the last stage (2048 for ResNet-50).
        out_channels (int): the teacher's token width (768 for ViT-B).
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.fc = nn.Linear(in_channels, out_channels)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) or (B, C) -> (B, out_channels)."""
        if feature.dim() == 4:
            feature = feature.mean(dim=(2, 3))
        elif feature.dim() != 2:
            raise ConfigError('expected (B, C, H, W) or (B, C), got shape '
                              f'{tuple(feature.shape)}.')
        return self.fc(feature)


@MODELS.register_module()
class PatchTokensConnector(BaseConnector):
    """A ViT's patch tokens: (B, extra + N, C) -> (B, N, C).

    Record the final norm (``backbone.ln1`` of MMPretrain's
    ``VisionTransformer``) to get the tokens after it.

    Args:
        num_extra_tokens (int): leading tokens to drop (the class token).
            Defaults to 1.
        init_cfg (dict, optional): unused (no parameters).
    """

    def __init__(self,
                 num_extra_tokens: int = 1,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.num_extra_tokens = num_extra_tokens

    def forward_train(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 3:
            raise ConfigError('expected ViT tokens (B, N, C), got shape '
                              f'{tuple(tokens.shape)}.')
        return tokens[:, self.num_extra_tokens:]
