"""Class activation maps of a classifier: the one place they are computed.

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777, Sec. 3.1: a classifier computes
``logits_k = GAP(sum_c w_kc f_c) + b_k``; moving the FC in front of the pooling
gives the CAMs ``CAM_k(x, y) = sum_c w_kc f_c(x, y)`` (Eq. 2, no bias).

There is one route from a model to its CAMs: the head's classifier ``fc``
applied to the last feature map (:func:`head_cams`). The recorder,
``CAMClsHead.cams``, the agreement hook, the figures, the multi-teacher
metrics and the analysis tool all take it (directly or through
:func:`logits_and_cams`), so they agree on every model. Pooled-first CAMs
follow the CAT loss's resolution rule (:func:`check_cam_resolution`).
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..utils.errors import ConfigError, ConfigTypeError
from .losses.cat_loss import check_cam_resolution

Feats = Union[torch.Tensor, Sequence[torch.Tensor]]


def class_activation_maps(feat: torch.Tensor,
                          fc_weight: torch.Tensor,
                          output_size: Optional[int] = None) -> torch.Tensor:
    """Class activation maps ``CAM_k(x, y) = sum_c w_kc f_c(x, y)`` (Eq. 2).

    The classifier's weights act as a bias-free 1x1 convolution on the feature
    map. Adaptive average pooling and that convolution are both linear maps
    that act on different axes, so they commute: with ``output_size`` the
    feature map is pooled first, which gives the same CAMs as pooling full
    CAMs and saves ``K*C*(H*W - r*r)`` multiply-adds per image.

    Args:
        feat (Tensor): the map the classifier pools, shape (N, C, H, W).
        fc_weight (Tensor): the classifier's weight, shape (K, C).
        output_size (int, optional): pool to (r, r) before the 1x1 conv.
            Defaults to None (full-resolution CAMs).

    Returns:
        Tensor: CAMs, shape (N, K, H, W) or (N, K, r, r).
    """
    if feat.dim() != 4:
        raise ConfigError('class activation maps need a feature map of shape '
                          f'(N, C, H, W), got shape {tuple(feat.shape)}: the '
                          'map must be taken before global pooling.')
    if feat.shape[1] != fc_weight.shape[1]:
        raise ConfigError(f'the feature map has {feat.shape[1]} channels but '
                          f'the classifier expects {fc_weight.shape[1]}.')
    if output_size is not None:
        check_cam_resolution(output_size, feat.shape)
        feat = F.adaptive_avg_pool2d(feat, output_size)
    return F.conv2d(feat, fc_weight[:, :, None, None].to(feat.dtype))


# Why MMPretrain's other classification heads give no exact CAMs.
HEAD_REASONS = {
    'StackedLinearClsHead':
    'a stacked MLP head (linear layers with activations between them) is '
    'not one linear map after pooling',
    'VisionTransformerClsHead':
    'a class-token head classifies the class token, not pooled patch '
    'features',
    'DeiTClsHead':
    'a class-token head (class and distillation tokens) classifies tokens, '
    'not pooled patch features',
    'LeViTClsHead':
    'a batch-normalised head (BatchNorm1d before the linear layer) is not '
    'one linear map of the pooled features in training',
    'EfficientFormerClsHead':
    'a head with a distillation classifier averages two linear layers of '
    'pooled tokens',
    'ConformerHead':
    'a two-branch head averages a CNN classifier and a class-token '
    'classifier',
    'CSRAClsHead':
    'class-specific residual attention pools each class differently',
    'ArcFaceClsHead':
    'an ArcFace head compares normalised features with normalised weights',
    'VigClsHead':
    'a stacked MLP head (linear layers with activations between them) is '
    'not one linear map after pooling',
}


def cam_obstacle(head: nn.Module) -> Optional[str]:
    """Why ``head`` gives no exact CAMs, or None: the reason a head states
    itself (``cam_obstacle``, e.g. a timm head with a norm, an MLP or a
    class token), else :data:`HEAD_REASONS` by its class, else None where
    its classifier is one ``nn.Linear`` ``fc``."""
    stated = getattr(head, 'cam_obstacle', None)
    if stated is not None:
        return stated
    if isinstance(getattr(head, 'fc', None), nn.Linear):
        return None
    name = type(head).__name__
    return HEAD_REASONS.get(name, f'{name} has no single nn.Linear `fc`')


def classifier_of(head: nn.Module) -> nn.Linear:
    """The linear classifier (K, C) whose weights turn features into CAMs.

    Accepted heads: ``CAMClsHead`` (with ``neck=None``) and MMPretrain's
    ``LinearClsHead`` after a ``GlobalAveragePooling`` neck (and any head
    whose classifier is one ``nn.Linear`` ``fc`` on pooled features, such
    as a timm model's ``TimmClsHead``); :func:`cam_obstacle` says why the
    others are refused.
    """
    fc = getattr(head, 'fc', None)
    reason = cam_obstacle(head)
    if reason is not None:
        name = type(head).__name__
        raise ConfigTypeError(
            f'{name} cannot produce class activation maps ({reason}): '
            'CAT-KD needs a head whose classifier is one nn.Linear `fc` '
            'applied to the pooled last feature map (CAMClsHead, or '
            'GlobalAveragePooling + LinearClsHead).')
    return fc


def last_feature_map(feats: Feats) -> torch.Tensor:
    """The map the classifier pools: the last of the backbone's outputs (a
    tensor or a tuple of them)."""
    return feats[-1] if isinstance(feats, (tuple, list)) else feats


def head_cams(head: nn.Module,
              feats: Feats,
              output_size: Optional[int] = None) -> torch.Tensor:
    """The CAMs (N, K, H, W), or (N, K, r, r), of ``head`` on the backbone's
    outputs ``feats``: its ``fc`` (:func:`classifier_of`) as a 1x1
    convolution on the last map, for every accepted head alike.
    """
    return class_activation_maps(
        last_feature_map(feats),
        classifier_of(head).weight, output_size)


def logits_and_cams(model: nn.Module,
                    inputs: torch.Tensor,
                    output_size: Optional[int] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """One forward of an MMPretrain ``ImageClassifier``: its logits (N, K)
    and CAMs (N, K, H, W) (or (N, K, r, r)), from one backbone pass.

    ``inputs`` are preprocessed (N, 3, H_in, W_in) images; the logits are
    the head's (after the neck, if any), so they are what ``predict`` scores.
    """
    feats = model.backbone(inputs)
    cams = head_cams(model.head, feats, output_size)
    if getattr(model, 'neck', None) is not None:
        feats = model.neck(feats)
    return model.head(feats), cams
