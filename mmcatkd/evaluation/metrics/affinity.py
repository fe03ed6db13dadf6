"""Affinity: how well a model still recognises images under an augmentation.

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", Expert Systems with Applications 262 (2025),
https://arxiv.org/abs/2405.00739. ``tools/analyze_attention.py --affinity``
measures it for any model on any dataset config.
"""
import torch

from ...utils.errors import ConfigError


def affinity(correct_augmented: torch.Tensor,
             correct_base: torch.Tensor) -> float:
    """Accuracy on augmented views divided by accuracy on the base views.

    Both are computed on the same validation images: once through the
    training augmentation, once through the test pipeline. 1 means the
    augmentation costs no accuracy; below 1 the augmented images lie off the
    distribution the model handles.

    Args:
        correct_augmented (Tensor): (N,) bool, top-1 correct on the
            augmented view of each image.
        correct_base (Tensor): (N,) bool, top-1 correct on its base view.

    Returns:
        float: the ratio; ``nan`` if no base view is classified correctly.
    """
    if correct_augmented.numel() != correct_base.numel():
        raise ConfigError(f'affinity needs the same images in both views, got '
                          f'{correct_augmented.numel()} augmented and '
                          f'{correct_base.numel()} base results.')
    base = correct_base.float().mean().item()
    if base == 0:
        return float('nan')
    return correct_augmented.float().mean().item() / base
