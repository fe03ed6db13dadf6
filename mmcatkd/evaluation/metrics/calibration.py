"""Expected calibration error (ECE) with equal-width confidence bins.

Guo, Pleiss, Sun, Weinberger, "On Calibration of Modern Neural Networks",
ICML 2017, https://arxiv.org/abs/1706.04599, Eq. 3; the measurement of Guo
et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", ESWA 2025, https://arxiv.org/abs/2405.00739.
"""
from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ...utils.errors import ConfigError, ConfigKeyError


def expected_calibration_error(probs: torch.Tensor,
                               labels: torch.Tensor,
                               num_bins: int = 10,
                               unweighted: bool = False) -> float:
    """ECE of top-1 predictions over ``num_bins`` equal-width bins.

    The confidence of a sample is its largest probability; bin ``m`` holds
    the samples with confidence in ``(m/num_bins, (m+1)/num_bins]``. For each
    bin, ``acc_m`` is the fraction of its samples whose top-1 class is the
    label and ``conf_m`` their mean confidence.

    - standard (count-weighted): ``sum_m (n_m / N) |acc_m - conf_m|``;
    - ``unweighted=True``: ``(1/num_bins) sum_m |acc_m - conf_m|`` over all
      bins, an empty bin contributing 0. This is what the authors' code
      (``ece_score`` in RethinkKD's ``calculate_ece.py``) reports; it weighs
      a bin of 3 samples like a bin of 3,000.

    Args:
        probs (Tensor): (N, K) class probabilities.
        labels (Tensor): (N,) ground-truth class indices.
        num_bins (int): number of bins. Defaults to 10.
        unweighted (bool): the authors' unweighted mean over bins.
            Defaults to False.

    Returns:
        float: the ECE, in [0, 1].
    """
    if probs.dim() != 2 or labels.shape != probs.shape[:1]:
        raise ConfigError('ECE needs probabilities (N, K) and labels (N,), '
                          f'got {tuple(probs.shape)} and '
                          f'{tuple(labels.shape)}.')
    confidences, predictions = probs.max(dim=1)
    correct = (predictions == labels).to(confidences.dtype)
    # upper edges 1/n .. (n-1)/n: bucketize (right=False) puts x in bin i
    # with edge[i-1] < x <= edge[i], i.e. the half-open bins (a, b].
    inner_edges = torch.tensor([m / num_bins for m in range(1, num_bins)],
                               dtype=confidences.dtype)
    bins = torch.bucketize(confidences, inner_edges)
    counts = torch.bincount(bins, minlength=num_bins).to(confidences.dtype)
    conf_sums = torch.zeros(
        num_bins, dtype=confidences.dtype).index_add_(0, bins, confidences)
    correct_sums = torch.zeros(
        num_bins, dtype=confidences.dtype).index_add_(0, bins, correct)
    gaps = (correct_sums - conf_sums).abs() / counts.clamp(min=1)
    if unweighted:
        return gaps.mean().item()
    return (gaps * counts).sum().item() / counts.sum().item()


@METRICS.register_module()
class ExpectedCalibrationError(BaseMetric):
    """Expected calibration error of the predictions (``pred_score``).

    Reports ``calibration/ece``, the standard count-weighted ECE, and with
    ``unweighted=True`` also ``calibration/ece_unweighted``, the unweighted
    mean over bins of the authors' code. See
    :func:`expected_calibration_error`.

    Args:
        num_bins (int): equal-width confidence bins. Defaults to 10.
        unweighted (bool): also report the unweighted variant.
            Defaults to False.
        collect_device (str): as :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): defaults to 'calibration'.
    """
    default_prefix: Optional[str] = 'calibration'

    def __init__(self,
                 num_bins: int = 10,
                 unweighted: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if (isinstance(num_bins, bool) or not isinstance(num_bins, int)
                or num_bins < 1):
            raise ConfigError(
                f'num_bins must be an integer >= 1, got {num_bins!r}.')
        self.num_bins = num_bins
        self.unweighted = unweighted

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'pred_score' not in sample:
                raise ConfigKeyError(
                    'ExpectedCalibrationError needs `pred_score` '
                    '(class probabilities) in the predictions.')
            self.results.append(
                dict(
                    pred_score=sample['pred_score'].cpu(),
                    gt_label=sample['gt_label'].cpu().reshape(-1)[:1]))

    def compute_metrics(self, results: List[dict]) -> dict:
        probs = torch.stack([result['pred_score'] for result in results])
        labels = torch.cat([result['gt_label'] for result in results])
        metrics = dict(
            ece=expected_calibration_error(probs, labels, self.num_bins))
        if self.unweighted:
            metrics['ece_unweighted'] = expected_calibration_error(
                probs, labels, self.num_bins, unweighted=True)
        return metrics
