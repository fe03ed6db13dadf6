"""[CLS]-KD's projector of the student's class token to the teacher's width."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.models.architectures.connectors.base_connector import \
    BaseConnector
from mmrazor.registry import MODELS

from ...utils.errors import ConfigError


@MODELS.register_module()
class CLSTokenProjector(BaseConnector):
    """Projects the l2-normalised class token of student blocks to C_T.

    "Adaptive class token knowledge distillation for efficient vision
    transformer", Kang, Son, Kim, Knowledge-Based Systems 2024,
    https://doi.org/10.1016/j.knosys.2024.112531

    normalize(x[:, 0]) -> Linear(C_S, H) -> GELU -> Dropout -> Linear(H, C_T)
    -> Dropout, for a block output x (B, 1+P, C_S); H = (C_S + C_T) // 2 as in
    the authors' code. Given the list of several blocks' outputs (a
    ``LayerOutputsRecorder`` record) it projects each with the same weights
    and returns a list: one projector serves all distilled layers. As a
    distiller connector it belongs to the algorithm, so the optimizer trains
    it with the student.

    Args:
        in_channels (int): C_S, the student's width.
        out_channels (int): C_T, the teacher's width.
        hidden_channels (int, optional): H. Defaults to (C_S + C_T) // 2.
        drop (float): dropout probability. Defaults to 0.0 (the authors').
        init_cfg (dict, optional): Defaults to the authors' truncated normal
            (std 0.02) weights and zero biases.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: Optional[int] = None,
        drop: float = 0.0,
        init_cfg: Optional[Dict] = dict(
            type='TruncNormal', layer='Linear', std=0.02, bias=0.0)
    ) -> None:
        super().__init__(init_cfg)
        hidden_channels = hidden_channels or (in_channels + out_channels) // 2
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_channels, out_channels)
        self.drop2 = nn.Dropout(drop)

    def forward_train(
        self, feature: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Union[torch.Tensor, List[torch.Tensor]]:
        """(B, 1+P, C_S) -> (B, C_T); a list of those -> a list."""
        if not isinstance(feature, torch.Tensor):
            return [self.forward_train(tokens) for tokens in feature]
        if feature.dim() != 3:
            raise ConfigError(
                'CLSTokenProjector expects a block output (B, 1+P, C), got '
                f'{tuple(feature.shape)}.')
        cls_token = F.normalize(feature[:, 0], dim=-1)
        hidden = self.drop1(self.act(self.fc1(cls_token)))
        return self.drop2(self.fc2(hidden))
