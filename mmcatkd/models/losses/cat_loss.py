"""CAT loss: "Class Attention Transfer Based Knowledge Distillation".

Guo, Yan, Li, Lin. CVPR 2023, https://arxiv.org/abs/2304.12777, Eq. 5.

The loss owns its rules: which resolutions r are possible
(:func:`check_cam_resolution`), how teacher CAMs are binarised
(:func:`binarize_cams`) and whether the teacher's CAMs must come at full
resolution (:attr:`CATLoss.needs_full_teacher_cams`); the distiller, the
cached algorithm and the cache builder ask it.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmrazor.registry import MODELS

from ...utils import at_least_fp32, fp32_region
from ...utils.errors import ConfigError
from .auto_beta import DEFAULT_TARGET, AutoBeta


def check_cam_resolution(resolution: int, *cam_shapes: Sequence[int]) -> None:
    """Raise ``ValueError`` unless r is an integer >= 1 and every (.., H, W)
    shape can be pooled to r×r."""
    # bool is an int subclass: resolution=True would pass as 1
    if (isinstance(resolution, bool) or not isinstance(resolution, int)
            or resolution < 1):
        raise ConfigError(
            f'CAM resolution must be an integer >= 1, got {resolution!r}.')
    for shape in cam_shapes:
        if resolution > min(shape[-2:]):
            raise ConfigError(
                f'CAM resolution {resolution} is larger than a CAM map of '
                f'shape {tuple(shape)}: choose a resolution no larger than '
                'the smallest H and W of student and teacher.')


def binarize_cams(cams: torch.Tensor) -> torch.Tensor:
    """1 where a CAM exceeds the mean of its absolute values over H×W, else 0
    (CAT-KD Sec. 4.1).

    Args:
        cams (Tensor): (N, K, H, W).

    Returns:
        Tensor: binary maps of the same shape and dtype.
    """
    threshold = cams.abs().mean(dim=(2, 3), keepdim=True)
    return (cams > threshold).to(cams.dtype)


@MODELS.register_module()
class CATLoss(nn.Module):
    """Class Attention Transfer loss, CAT-KD (CVPR 2023), Eq. 5.

    "Class Attention Transfer Based Knowledge Distillation", Guo et al.,
    CVPR 2023. https://arxiv.org/abs/2304.12777
    https://github.com/GzyAftermath/CAT-KD

    Student and teacher class activation maps (N, K, H, W) (their sizes may
    differ) are average-pooled to (r, r), optionally l2-normalised over the
    r*r positions of each (sample, class) map, and compared by the mean
    squared difference over the N*K*r*r elements (N*n*r*r with
    ``num_selected=n``).

    Args:
        loss_weight (float | str): the paper's beta, or ``'auto'``: measured
            during the first ``auto_iters`` iterations and then fixed so
            that beta * CAT is ``auto_target`` (the authors' rule, see
            :class:`AutoBeta`, which also says what weight the window uses).
            Defaults to 1.0.
        resolution (int): r, the side of the pooled maps. Defaults to 2.
        normalize (bool): l2-normalise each pooled map (eps 1e-12).
            Defaults to True, as the authors' code. Their CAT-KD configs
            use unnormalised maps for same-family pairs
            (``IF_NORMALIZE: False``, e.g. res56->res20 beta 0.7,
            res32x4->res8x4 beta 15, R34->R18 beta 0.5) and normalised ones
            for cross-family pairs (beta 10-600): a beta belongs to its
            setting. Normalised maps with a freshly initialised head give
            large first gradients (they grow as 1/||CAM||); see
            docs/your_own_pair.md.
        binarize (bool): replace each teacher map, before pooling, by 1 where
            it exceeds the mean of its absolute values over H×W and 0 elsewhere
            (paper Sec. 4.2). Defaults to False.
        num_selected (int, optional): transfer only the CAMs of n classes
            per sample, ranked by teacher score (the spatial mean of the
            teacher CAM); how many is ``class_count``'s. Defaults to None
            (all classes).
        selection (str): 'top' keeps the n classes with the highest teacher
            score, 'bottom' the n lowest. Defaults to 'top'.
        class_count (str): 'exact' keeps exactly n classes of any K.
            'authors' keeps what the authors' strict comparison keeps
            (their ``CAT_KD.forward_train``): for 'top' the classes scoring
            above the n-th highest (n - 1 classes), for 'bottom' all but
            those scoring above the (K - n)-th highest (n + 1 classes); when
            ties make the kept counts differ between samples, every class
            is transferred, as their ``_mask`` falls back to. Defaults to
            'exact'.
        auto_iters (int, optional): with ``loss_weight='auto'``, the
            iterations of the measuring window. Defaults to None: one epoch,
            set by ``CATAutoBetaHook``.
        auto_target (float): with ``loss_weight='auto'``, beta * CAT after
            the window. Defaults to sqrt(50) ~ 7.07, the geometric middle of
            the authors' 1-50.
    """

    def __init__(self,
                 loss_weight: Union[float, str] = 1.0,
                 resolution: int = 2,
                 normalize: bool = True,
                 binarize: bool = False,
                 num_selected: Optional[int] = None,
                 selection: str = 'top',
                 class_count: str = 'exact',
                 auto_iters: Optional[int] = None,
                 auto_target: float = DEFAULT_TARGET) -> None:
        super().__init__()
        check_cam_resolution(resolution)
        if selection not in ('top', 'bottom'):
            raise ConfigError(
                f"selection must be 'top' or 'bottom', got {selection!r}.")
        if class_count not in ('exact', 'authors'):
            raise ConfigError("class_count must be 'exact' or 'authors', "
                              f'got {class_count!r}.')
        if num_selected is not None and (isinstance(num_selected, bool)
                                         or not isinstance(num_selected, int)
                                         or num_selected < 1):
            raise ConfigError('num_selected must be None or an integer >= 1, '
                              f'got {num_selected!r}.')
        # Checked here, not at the first step: a string weight would fail
        # inside forward, a negative one would push the CAMs apart.
        if loss_weight != 'auto' and (isinstance(
                loss_weight, bool) or not isinstance(loss_weight, (int, float))
                                      or not 0 <= loss_weight < float('inf')):
            raise ConfigError("loss_weight must be a finite number >= 0 or "
                              f"'auto', got {loss_weight!r}.")
        for name, flag in (('normalize', normalize), ('binarize', binarize)):
            if not isinstance(flag, bool):
                raise ConfigError(
                    f'{name} must be True or False, got {flag!r}.')
        self.loss_weight = loss_weight
        # None unless 'auto': fixed-beta losses keep their state_dict empty.
        self.auto_beta = (
            AutoBeta(auto_target, auto_iters)
            if loss_weight == 'auto' else None)
        self.resolution = resolution
        self.normalize = normalize
        self.binarize = binarize
        self.num_selected = num_selected
        self.selection = selection
        self.class_count = class_count

    @property
    def needs_full_teacher_cams(self) -> bool:
        """Whether the teacher's CAMs must reach :meth:`forward` at full
        resolution (H, W), not pooled first to (r, r): binarising (a
        threshold per full map) and choosing classes by teacher score do not
        commute with pooling."""
        return self.binarize or self.num_selected is not None

    def forward(self, cams_S: torch.Tensor,
                cams_T: torch.Tensor) -> torch.Tensor:
        """The CAT loss, a scalar, computed in fp32 even under AMP.

        Args:
            cams_S (Tensor): student CAMs, (N, K, Hs, Ws).
            cams_T (Tensor): teacher CAMs, (N, K, Ht, Wt); detached here.
        """
        self._check_shapes(cams_S, cams_T)
        with fp32_region(cams_S):
            loss = self._loss(
                at_least_fp32(cams_S), at_least_fp32(cams_T.detach()))
            if self.auto_beta is not None:
                return self.auto_beta(loss).to(loss.dtype) * loss
            return self.loss_weight * loss

    def _loss(self, cams_S: torch.Tensor,
              cams_T: torch.Tensor) -> torch.Tensor:
        if self.num_selected is not None:
            cams_S, cams_T = self._select_classes(cams_S, cams_T)
        if self.binarize:
            cams_T = binarize_cams(cams_T)
        pooled_S = self._pool(cams_S)
        pooled_T = self._pool(cams_T)
        return F.mse_loss(pooled_S, pooled_T.to(pooled_S.dtype))

    def _pool(self, cams: torch.Tensor) -> torch.Tensor:
        pooled = cams
        # Pooled-first CAMs (CAMDistiller's default) arrive at r x r: pooling
        # them again is the identity, at the price of a kernel each way.
        if tuple(cams.shape[-2:]) != (self.resolution, self.resolution):
            pooled = F.adaptive_avg_pool2d(cams, self.resolution)
        if self.normalize:
            pooled = F.normalize(pooled, p=2, dim=(2, 3), eps=1e-12)
        return pooled

    def _select_classes(self, cams_S: torch.Tensor, cams_T: torch.Tensor):
        """Keep the CAMs of ``num_selected`` classes per sample, (N, n, H,
        W)."""
        num_classes = cams_T.shape[1]
        if self.num_selected > num_classes:
            raise ConfigError(
                f'num_selected={self.num_selected} exceeds the {num_classes} '
                'classes of the CAMs.')
        teacher_scores = cams_T.mean(dim=(2, 3))
        if self.class_count == 'authors':
            selected = self._authors_selection(teacher_scores)
            if selected is None:
                return cams_S, cams_T
        else:
            selected = teacher_scores.topk(
                self.num_selected, dim=1,
                largest=self.selection == 'top').indices

        def gather(cams):
            index = selected[:, :, None, None].expand(-1, -1, *cams.shape[2:])
            return cams.gather(1, index)

        return gather(cams_S), gather(cams_T)

    def _authors_selection(self, teacher_scores: torch.Tensor):
        """The class indices (N, c) the authors' strict comparison keeps,
        or None where it keeps different counts per sample (all classes)."""
        num_classes = teacher_scores.shape[1]
        rank = (
            self.num_selected - 1 if self.selection == 'top' else num_classes -
            1 - self.num_selected)
        if not 0 <= rank < num_classes:
            raise ConfigError(
                f"class_count='authors' with selection={self.selection!r} "
                f'needs num_selected < {num_classes}, got '
                f'{self.num_selected}.')
        threshold = teacher_scores.sort(
            dim=1, descending=True).values[:, rank:rank + 1]
        above = teacher_scores > threshold
        kept = above if self.selection == 'top' else ~above
        counts = kept.sum(dim=1)
        if not (counts == counts[0]).all() or counts[0] == 0:
            return None
        return kept.nonzero()[:, 1].view(len(kept), -1)

    def _check_shapes(self, cams_S: torch.Tensor,
                      cams_T: torch.Tensor) -> None:
        if cams_S.dim() != 4 or cams_T.dim() != 4:
            raise ConfigError(
                'CATLoss expects CAMs of shape (N, K, H, W), got student '
                f'{tuple(cams_S.shape)} and teacher {tuple(cams_T.shape)}.')
        if cams_S.shape[:2] != cams_T.shape[:2]:
            raise ConfigError(
                'student and teacher CAMs must agree in N and K, got student '
                f'{tuple(cams_S.shape)} and teacher {tuple(cams_T.shape)}.')
        check_cam_resolution(self.resolution, cams_S.shape, cams_T.shape)
