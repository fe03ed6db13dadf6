"""Manifold distillation terms, as [CLS]-KD uses them.

"Learning Efficient Vision Transformers via Fine-Grained Manifold
Distillation", Hao, Guo, Jia, Han, Tang, Wang, Xu, NeurIPS 2022,
https://arxiv.org/abs/2107.01378

Each term compares Gram matrices of l2-normalised tokens (cosine
similarities, so student and teacher widths may differ) of the n paired
blocks (B, N, C), N = 1+P (all tokens, class token included), and returns
``loss_weight * sum_i L_i / n``. L_i is the plain mean of the squared Gram
difference, as in the [CLS]-KD code (Kang et al., KBS 2024,
https://github.com/kmc3661/CLS-KD); the manifold-distillation code sums over
the last Gram axis first, a factor of N (or B or K) larger.
"""
import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from ...utils.errors import ConfigError
from .layerwise import LayerwiseLoss, check_tokens


def gram_mse(feats_S: torch.Tensor, feats_T: torch.Tensor) -> torch.Tensor:
    """mean((G_T - G_S)**2), G = f f^T over the last two axes of the
    l2-normalised (.., M, C) features."""
    feats_S = F.normalize(feats_S, dim=-1)
    feats_T = F.normalize(feats_T, dim=-1)
    gram_S = feats_S @ feats_S.transpose(-1, -2)
    gram_T = feats_T @ feats_T.transpose(-1, -2)
    return F.mse_loss(gram_S, gram_T)


class _ManifoldLoss(LayerwiseLoss):
    """The mean over layers of the ``gram_mse`` of ``self.pairs(S, T)``."""

    def layer_loss(self, block_S: torch.Tensor,
                   block_T: torch.Tensor) -> torch.Tensor:
        check_tokens(type(self).__name__, block_S, block_T)
        return gram_mse(*self.pairs(block_S, block_T))

    def pairs(self, block_S: torch.Tensor, block_T: torch.Tensor):
        raise NotImplementedError


@MODELS.register_module()
class PatchManifoldLoss(_ManifoldLoss):
    """Patch-level (intra-image) manifold loss, Hao et al. NeurIPS 2022.

    Per image b, G[b] = f[b] f[b]^T is (N, N) over its N tokens;
    L_i = mean over (B, N, N) of (G_T - G_S)**2. [CLS]-KD weight 4.0.

    Args:
        loss_weight (float): the authors' ``--w-patch``. Defaults to 1.0.
    """

    def pairs(self, block_S, block_T):
        return block_S, block_T


@MODELS.register_module()
class SampleManifoldLoss(_ManifoldLoss):
    """Sample-level (inter-image) manifold loss, Hao et al. NeurIPS 2022.

    Per token position t, G[t] = f[:, t] f[:, t]^T is (B, B) across the batch;
    L_i = mean over (N, B, B) of (G_T - G_S)**2. [CLS]-KD weight 0.1.

    Args:
        loss_weight (float): the authors' ``--w-sample``. Defaults to 1.0.
    """

    def pairs(self, block_S, block_T):
        return block_S.transpose(0, 1), block_T.transpose(0, 1)


@MODELS.register_module()
class RandomManifoldLoss(_ManifoldLoss):
    """Randomly sampled manifold loss, Hao et al. NeurIPS 2022.

    Per layer, K = min(num_samples, B*N) rows are drawn without replacement
    (``torch.randperm``, a fresh draw per layer and step) from the (B*N, C)
    token matrix; student and teacher use the same rows. G = f f^T is
    (K, K); L_i = mean over (K, K) of (G_T - G_S)**2. [CLS]-KD weight 0.2.

    Args:
        num_samples (int): K, the authors' ``--K``. Defaults to 192.
        loss_weight (float): the authors' ``--w-rand``. Defaults to 1.0.
    """

    def __init__(self,
                 num_samples: int = 192,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                or num_samples < 1):
            raise ConfigError('num_samples must be an integer >= 1, got '
                              f'{num_samples!r}.')
        self.num_samples = num_samples

    def pairs(self, block_S, block_T):
        rows_S = block_S.flatten(0, 1)
        rows_T = block_T.flatten(0, 1)
        sampled = torch.randperm(
            rows_S.shape[0], device=rows_S.device)[:self.num_samples]
        return rows_S[sampled], rows_T[sampled]
