from .cakd import (ClassTokenConnector, GroupwiseLinearConnector,
                   PartialCrossAttentionConnector, PatchTokensConnector,
                   QKVAttentionConnector, token_groups)
from .cls_token_projector import CLSTokenProjector

__all__ = [
    'ClassTokenConnector', 'GroupwiseLinearConnector',
    'PartialCrossAttentionConnector', 'PatchTokensConnector',
    'QKVAttentionConnector', 'token_groups', 'CLSTokenProjector'
]
