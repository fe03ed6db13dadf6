from .cakd import (ClassTokenConnector, GroupwiseLinearConnector,
                   PartialCrossAttentionConnector, PatchTokensConnector,
                   QKVAttentionConnector, token_groups)

__all__ = [
    'ClassTokenConnector', 'GroupwiseLinearConnector',
    'PartialCrossAttentionConnector', 'PatchTokensConnector',
    'QKVAttentionConnector', 'token_groups'
]
