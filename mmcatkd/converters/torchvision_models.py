"""Torchvision ImageNet weights in the layout of MMPretrain's models.

The papers' ImageNet teachers are torchvision's: ResNet-34 / ResNet-50 for
CAT-KD (Guo et al., CVPR 2023) and the multi-teacher study, and ``vit_b_16``
(``IMAGENET1K_V1``, 81.07 top-1) for cross-architecture KD (Liu et al., ACCV
2022). :func:`convert_torchvision_state_dict` turns a torchvision state dict
into one that loads strictly into the mmcatkd model of the same architecture,
so that ``teacher_ckpt='torchvision://vit_b_16'`` (MMEngine's scheme, fetched
through the safe loader) is converted while it is loaded.

- ResNets: MMPretrain's ``ResNet`` registers torchvision's tensors in
  torchvision's order, so :func:`~mmcatkd.converters.teacher.map_state_dict`
  aligns them by order and shape.
- ViT: torchvision fuses the attention in ``nn.MultiheadAttention``
  (``in_proj_weight``), whose leaf names differ from MMPretrain's
  ``VisionTransformer``; :func:`convert_torchvision_vit` renames the keys.
  Both compute the same function (pre-norm blocks, LayerNorm eps 1e-6, exact
  GELU, q/k/v stacked in that order, class token first, final LayerNorm on
  all tokens, the class token into one Linear head).
"""
import re
from collections import OrderedDict
from typing import Mapping

import torch

from .teacher import UnmappedKeysError, map_state_dict

# torchvision ``vit_b_16`` key pattern -> MMPretrain ``ImageClassifier`` with
# a ``VisionTransformer`` backbone and a ``VisionTransformerClsHead``.
_VIT_RENAMES = (
    (r'class_token', 'backbone.cls_token'),
    (r'conv_proj\.(weight|bias)', r'backbone.patch_embed.projection.\1'),
    (r'encoder\.pos_embedding', 'backbone.pos_embed'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.ln_1\.(weight|bias)',
     r'backbone.layers.\1.ln1.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_'
     r'(weight|bias)', r'backbone.layers.\1.attn.qkv.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\.'
     r'(weight|bias)', r'backbone.layers.\1.attn.proj.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.ln_2\.(weight|bias)',
     r'backbone.layers.\1.ln2.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.mlp\.0\.(weight|bias)',
     r'backbone.layers.\1.ffn.layers.0.0.\2'),
    (r'encoder\.layers\.encoder_layer_(\d+)\.mlp\.3\.(weight|bias)',
     r'backbone.layers.\1.ffn.layers.1.\2'),
    (r'encoder\.ln\.(weight|bias)', r'backbone.ln1.\1'),
    (r'heads\.head\.(weight|bias)', r'head.layers.head.\1'),
)


def is_torchvision_vit(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Whether a torchvision state dict is a ``VisionTransformer``'s."""
    return 'class_token' in state_dict and 'conv_proj.weight' in state_dict


def convert_torchvision_vit(
        state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict':
    """A torchvision ``VisionTransformer`` state dict under MMPretrain keys.

    Args:
        state_dict: e.g. ``torchvision.models.vit_b_16().state_dict()``.

    Returns:
        OrderedDict: the same tensors under ``backbone.*`` / ``head.*`` keys
        of an MMPretrain ``ImageClassifier`` (``VisionTransformer`` backbone,
        ``VisionTransformerClsHead`` without a hidden layer).

    Raises:
        UnmappedKeysError: a key that no rename covers (e.g. the hidden
            ``pre_logits`` layer of a ``representation_size`` head).
    """
    converted, unmapped = OrderedDict(), []
    for key, value in state_dict.items():
        for pattern, replacement in _VIT_RENAMES:
            if re.fullmatch(pattern, key):
                converted[re.sub(pattern, replacement, key)] = value
                break
        else:
            unmapped.append(key)
    if unmapped:
        raise UnmappedKeysError(unmapped, [])
    return converted


def convert_torchvision_state_dict(
        source: Mapping[str, torch.Tensor],
        destination: Mapping[str, torch.Tensor]) -> 'OrderedDict':
    """A torchvision state dict under the keys of ``destination``.

    Args:
        source: the torchvision state dict (a ViT or a ResNet).
        destination: the state dict of the mmcatkd model it is for; its keys
            and shapes are checked (a ResNet is also mapped by them).

    Raises:
        UnmappedKeysError: a tensor on either side has no counterpart.
    """
    if not is_torchvision_vit(source):
        return map_state_dict(source, destination)
    converted = convert_torchvision_vit(source)
    missing = [key for key in destination if key not in converted]
    extra = [
        key for key in converted if key not in destination
        or converted[key].shape != destination[key].shape
    ]
    if missing or extra:
        raise UnmappedKeysError(extra, missing)
    return converted
