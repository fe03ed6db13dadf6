"""Overlap of the class activation maps of several models (CAM IoU).

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", Expert Systems with Applications 262 (2025),
https://arxiv.org/abs/2405.00739: where two models look, as the IoU of their
binarised class-summed CAMs.
"""
import itertools
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ...utils.errors import ConfigError, ConfigKeyError

#: how CAMIoU averages over the images: the authors' per-batch mean, pooled
AVERAGING = ('batch', 'pooled')
#: the authors' min-max normalisation guards against a constant map with this
MINMAX_EPS = 1e-8


def cam_masks(cams: torch.Tensor,
              size: Tuple[int, int],
              threshold: float = 0.4) -> torch.Tensor:
    """Binary attention masks (N, H, W) from class-summed CAMs (N, h, w).

    Each CAM is bilinearly upsampled to ``size`` (``align_corners=False``),
    min-max normalised per image, ``(cam - min) / (max - min + 1e-8)``, and
    binarised: True where the normalised value exceeds ``threshold``
    (strictly, as the authors' code). A constant map gives an empty mask.

    Args:
        cams (Tensor): (N, h, w), e.g. the class-summed CAMs
            ``logits_and_cams(model, inputs)[1].sum(dim=1)``.
        size (tuple[int, int]): (H, W), the input image size.
        threshold (float): in [0, 1). Defaults to 0.4, the paper's and
            the authors' released IoU scripts' (``Threshold = 0.4``).
    """
    if cams.dim() != 3:
        raise ConfigError('cam_masks needs class-summed CAMs (N, h, w), got '
                          f'shape {tuple(cams.shape)}.')
    if not 0 <= threshold < 1:
        raise ConfigError(
            f'the CAM threshold must be in [0, 1), got {threshold!r}.')
    upsampled = F.interpolate(
        cams[:, None].float(),
        size=tuple(size),
        mode='bilinear',
        align_corners=False)[:, 0]
    flat = upsampled.flatten(1)
    low = flat.min(dim=1).values[:, None, None]
    high = flat.max(dim=1).values[:, None, None]
    normalised = (upsampled - low) / (high - low + MINMAX_EPS)
    return normalised > threshold


def mask_overlap(*masks: torch.Tensor) -> Tuple[int, int]:
    """Pixels in all masks and pixels in any mask, summed over the images.

    Args:
        *masks (Tensor): two or more bool masks of one shape, (N, H, W),
            one per model.

    Returns:
        tuple[int, int]: (intersection, union) pixel counts.
    """
    if len(masks) < 2:
        raise ConfigError('mask_overlap needs the masks of at least two '
                          f'models, got {len(masks)}.')
    if any(mask.shape != masks[0].shape for mask in masks):
        raise ConfigError('mask_overlap needs masks of one shape, got '
                          f'{[tuple(mask.shape) for mask in masks]}.')
    stacked = torch.stack([mask.bool() for mask in masks])
    return (int(stacked.all(dim=0).sum()), int(stacked.any(dim=0).sum()))


def cam_iou(*masks: torch.Tensor) -> float:
    """IoU of the masks of two or more models over a set of images.

    ``sum_images |M_1 ∩ ... ∩ M_m| / sum_images |M_1 ∪ ... ∪ M_m|``: the
    counts are pooled over all images before dividing. The authors' IoU
    script computes this per batch and averages the batches' values weighted
    by batch size (:func:`batch_weighted_iou`). For three models it is the
    intersection of all three over the union of all three. ``nan`` if every
    mask is empty.
    """
    intersection, union = mask_overlap(*masks)
    return intersection / union if union else float('nan')


def batch_weighted_iou(batches: Sequence[Tuple[int, int, int]]) -> float:
    """The authors' CAM IoU over a data set: ``sum_b n_b IoU_b / sum_b n_b``.

    As zisci2/RethinkKD ``IoU/calculate-IoU.py`` computes it: ``IoU_b`` is
    the pooled IoU of batch b (:func:`cam_iou` of its n_b images), and the
    batches' values are averaged weighted by their sizes, so the result
    depends on how the images are batched. A batch whose masks are all
    empty has no IoU and is left out (the authors' division would give
    ``nan``); ``nan`` if no batch has one.

    Args:
        batches (Sequence[tuple[int, int, int]]): per batch the
            (intersection, union, number of images) counts.
    """
    scored = [(intersection / union, size)
              for intersection, union, size in batches if union]
    total = sum(size for _, size in scored)
    if not total:
        return float('nan')
    return sum(iou * size for iou, size in scored) / total


@METRICS.register_module()
class CAMIoU(BaseMetric):
    """Pairwise CAM IoU of the student and its teachers (and all together).

    Needs the class-summed CAMs of every model in the predictions:
    ``MultiTeacherDistill`` with ``attach_teacher_outputs=True`` stores them
    as ``cams``, a list of M maps (h_i, w_i) (sizes may differ), the student
    first, then the teachers in order.
    Masks are taken at the input size (``batch_input_shape``, else
    ``img_shape``) by :func:`cam_masks`. With ``averaging='batch'`` (the
    authors' IoU script) each batch's pooled IoU is averaged over the
    batches weighted by batch size (:func:`batch_weighted_iou`); with
    ``'pooled'`` the counts are pooled over all images first
    (:func:`cam_iou`), a value that does not depend on the batching.
    Reports, under the prefix ``cam_iou``, one ``{name_a}-{name_b}`` entry
    per pair of models and, for three or more models, ``all``: the
    intersection of all masks over their union.

    Args:
        threshold (float): binarisation threshold of the min-max normalised
            CAMs. Defaults to 0.4.
        names (Sequence[str], optional): model names in the order of the
            maps. Defaults to ``student, teacher0, teacher1, ...``.
        averaging (str): 'batch' (the authors') or 'pooled', see above.
            Defaults to 'batch'.
        collect_device (str): as :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): defaults to 'cam_iou'.
    """
    default_prefix: Optional[str] = 'cam_iou'

    def __init__(self,
                 threshold: float = 0.4,
                 names: Optional[Sequence[str]] = None,
                 averaging: str = 'batch',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0 <= threshold < 1:
            raise ConfigError(
                f'the CAM threshold must be in [0, 1), got {threshold!r}.')
        if averaging not in AVERAGING:
            raise ConfigError(f'CAMIoU averaging must be one of {AVERAGING} '
                              f'(the authors\' per-batch mean, or counts '
                              f'pooled over the set), got {averaging!r}.')
        self.threshold = threshold
        self.averaging = averaging
        self.names = list(names) if names is not None else None

    def _groups(self, num_models: int) -> List[Tuple[str, Tuple[int, ...]]]:
        names = self.names or ['student'] + [
            f'teacher{index}' for index in range(num_models - 1)
        ]
        if len(names) != num_models:
            raise ConfigError(f'CAMIoU has {len(names)} names for the CAMs '
                              f'of {num_models} models.')
        groups = [(f'{names[a]}-{names[b]}', (a, b))
                  for a, b in itertools.combinations(range(num_models), 2)]
        if num_models > 2:
            groups.append(('all', tuple(range(num_models))))
        return groups

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        overlaps = []
        for sample in data_samples:
            if 'cams' not in sample:
                raise ConfigKeyError(
                    'CAMIoU needs the class-summed CAMs of every model as '
                    '`cams` in the predictions: evaluate a '
                    'MultiTeacherDistill model built with '
                    'attach_teacher_outputs=True (or use '
                    'tools/analyze_attention.py for separate models).')
            # the batch's input size; a sample's own size if not recorded
            size = sample.get('batch_input_shape', sample.get('img_shape'))
            if size is None:
                raise ConfigKeyError(
                    'CAMIoU needs the input size the CAMs are upsampled to: '
                    '`batch_input_shape` (or `img_shape`) in the metainfo.')
            size = size[:2]
            # maps of different sizes are each upsampled to the input size
            masks = [
                cam_masks(cam[None], size, self.threshold)
                for cam in sample['cams']
            ]
            # per image only the counts are kept, never the masks
            overlaps.append({
                name:
                mask_overlap(*(masks[index] for index in members))
                for name, members in self._groups(len(masks))
            })
        if not overlaps:
            return
        # one result per batch: (intersection, union, images) per group
        self.results.append({
            name: (sum(overlap[name][0] for overlap in overlaps),
                   sum(overlap[name][1]
                       for overlap in overlaps), len(overlaps))
            for name in overlaps[0]
        })

    def compute_metrics(self, results: List[dict]) -> dict:
        metrics = {}
        for name in results[0]:
            batches = [result[name] for result in results]
            if self.averaging == 'batch':
                metrics[name] = batch_weighted_iou(batches)
            else:
                intersection = sum(batch[0] for batch in batches)
                union = sum(batch[1] for batch in batches)
                metrics[name] = (
                    intersection / union if union else float('nan'))
        return metrics
