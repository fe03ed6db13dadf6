from .cakd_loss import CAKDLoss
from .cat_loss import CATLoss
from .cls_kd import CLSPatchAttentionLoss, CLSTokenLoss, adaptive_layer_sum
from .manifold import PatchManifoldLoss, RandomManifoldLoss, SampleManifoldLoss

__all__ = [
    'CAKDLoss', 'CATLoss', 'CLSTokenLoss', 'CLSPatchAttentionLoss',
    'adaptive_layer_sum', 'PatchManifoldLoss', 'SampleManifoldLoss',
    'RandomManifoldLoss'
]
