"""Top-1 accuracy on the classes a student never saw (CAT-KD, Sec. 4.2).

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777, Fig. 4-right: a student
trained by CAT alone on some classes is tested on the others.
"""
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ..datasets.reduced_classes import resolve_classes
from ..utils.errors import ConfigError


@METRICS.register_module()
class UnseenClassAccuracy(BaseMetric):
    """Top-1 accuracy on all, the seen and the unseen test classes.

    Configure it with the class list of the training set's
    :class:`mmcatkd.datasets.ReducedClassDataset` (``seen_classes`` or
    ``num_seen_classes``); every other class is unseen. Predictions are over
    all K classes. Reports, under the prefix ``accuracy``, ``top1`` (all
    test images, the key MMPretrain's ``Accuracy`` uses), ``top1_seen`` and
    ``top1_unseen``, in percent (``nan`` when the test set has no image of
    that group).

    Args:
        seen_classes (Sequence[int | str], optional): the training classes,
            labels or names.
        num_seen_classes (int, optional): the training classes are
            ``0..n-1``. Give this or ``seen_classes``.
        collect_device (str): as :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): defaults to 'accuracy'.
    """
    default_prefix: Optional[str] = 'accuracy'

    def __init__(self,
                 seen_classes: Optional[Sequence[Union[int, str]]] = None,
                 num_seen_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if (seen_classes is None) == (num_seen_classes is None):
            raise ConfigError('UnseenClassAccuracy needs exactly one of '
                              'seen_classes and num_seen_classes.')
        self.seen_classes = seen_classes
        self.num_seen_classes = num_seen_classes

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score']
            self.results.append(
                dict(
                    pred=int(score.argmax()),
                    gt=int(sample['gt_label'][0]),
                    num_classes=int(score.numel())))

    def compute_metrics(self, results: List[dict]) -> dict:
        classes = (self.dataset_meta or {}).get('classes') or [
            str(label) for label in range(results[0]['num_classes'])
        ]
        seen = resolve_classes(self.seen_classes, self.num_seen_classes,
                               classes)
        preds = np.array([result['pred'] for result in results])
        gts = np.array([result['gt'] for result in results])
        is_seen = np.isin(gts, seen)

        def top1(mask: np.ndarray) -> float:
            if not mask.any():
                return float('nan')
            return float((preds[mask] == gts[mask]).mean() * 100)

        return dict(
            top1=top1(np.ones_like(is_seen)),
            top1_seen=top1(is_seen),
            top1_unseen=top1(~is_seen))
