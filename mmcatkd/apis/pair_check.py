"""Can this classifier give CAT-KD exact class activation maps?

CAT-KD (Guo et al., CVPR 2023, https://arxiv.org/abs/2304.12777, Eq. 2-3)
needs ``logits_k = GAP(CAM_k) + b_k`` with ``CAM_k = sum_c w_kc f_c``: one
linear classifier applied after global average pooling of the backbone's
last map. :func:`inspect_cams` measures that identity on a random batch in
float64 and, where it cannot hold, says why.
"""
import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from ..models.cams import cam_obstacle, classifier_of, logits_and_cams
from ..utils.config import config_model

TOLERANCE = 1e-5  # max |logits - (GAP(CAM) + b)| of an exact model (fp64)


def classifier_cfg(cfg: Config) -> dict:
    """``cfg.model`` with its data preprocessor and scope, buildable in
    MMPretrain's registry."""
    model = config_model(cfg).to_dict()
    if 'data_preprocessor' in cfg:
        model.setdefault('data_preprocessor', cfg.data_preprocessor.to_dict())
    model.setdefault('_scope_', cfg.get('default_scope') or 'mmpretrain')
    return model


def input_size_of(cfg: Config, default: int = 224) -> int:
    """The side of the training crop: the first crop or resize size in
    ``train_dataloader``'s (else ``test_dataloader``'s) pipeline."""
    for loader in ('train_dataloader', 'test_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset', {})
        for step in dataset.get('pipeline', []) or []:
            for key in ('crop_size', 'scale'):
                size = step.get(key)
                if isinstance(size, int):
                    return size
                if isinstance(size, (tuple, list)) and size and all(
                        isinstance(v, int) for v in size):
                    return int(size[0])
    return default


@dataclass
class CAMReport:
    """What :func:`inspect_cams` found for one classifier."""
    backbone: str
    head: str
    input_size: int = 0
    num_classes: Optional[int] = None
    source: str = ''
    cam_size: Optional[Tuple[int, int]] = None
    difference: Optional[float] = None
    reason: Optional[str] = None
    params: int = 0
    macs: int = 0
    notes: List[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.reason is None


def _backbone_name(backbone: torch.nn.Module) -> str:
    """The backbone's class, with the timm model it runs (``timm
    resnet50.a1_in1k``) for a timm classifier."""
    timm_name = getattr(backbone, 'model_name', None)
    return f'timm {timm_name}' if timm_name else type(backbone).__name__


def _pooled_reason(model: torch.nn.Module, shape) -> str:
    """Why the backbone's last output is (N, C) instead of a map."""
    backbone = model.backbone
    if getattr(backbone, 'gap_before_final_norm', False):
        return ('the backbone pools before its final norm '
                '(gap_before_final_norm=True), and a norm after pooling is '
                'not linear: set gap_before_final_norm=False')
    out_type = getattr(backbone, 'out_type', None)
    if out_type in ('cls_token', 'avg_featmap', 'raw'):
        return (f"the backbone outputs out_type='{out_type}' {tuple(shape)}, "
                "not a map: set out_type='featmap' (patch tokens as the map) "
                'with a GlobalAveragePooling neck and LinearClsHead')
    return (f'the backbone\'s last output has shape {tuple(shape)}, not '
            '(N, C, H, W): CAMs need the map before pooling')


def count_macs(model: torch.nn.Module, input_size: int) -> int:
    """Multiply-adds of one forward of one image (matmuls and convolutions,
    as ``torch.utils.flop_counter`` counts them, halved)."""
    inputs = torch.zeros(
        1, 3, input_size, input_size, dtype=next(model.parameters()).dtype)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(inputs, mode='tensor')
    return counter.get_total_flops() // 2


@torch.no_grad()
def inspect_cams(model: torch.nn.Module,
                 input_size: int,
                 seed: int = 0,
                 batch_size: int = 2) -> CAMReport:
    """Where ``model``'s CAMs come from and whether they are exact.

    The model (an MMPretrain ``ImageClassifier``, random or trained
    weights) is copied to float64 and evaluated on ``batch_size`` random
    images; exact means ``max |logits - (GAP(CAM) + b)| <= 1e-5``.

    Args:
        model: the classifier, left unchanged.
        input_size (int): side of the square input.
        seed (int): seed of the random batch.
        batch_size (int): images in the random batch.
    """
    import copy

    # no parameter needs a gradient here (the flop counter tracks those)
    model = copy.deepcopy(model).double().eval().requires_grad_(False)
    report = CAMReport(
        backbone=_backbone_name(model.backbone),
        head=type(model.head).__name__,
        input_size=input_size,
        params=sum(p.numel() for p in model.parameters()))
    report.macs = count_macs(model, input_size)
    try:
        fc = classifier_of(model.head)
    except TypeError:
        report.reason = cam_obstacle(model.head)
        return report
    report.num_classes = fc.out_features
    inputs = torch.randn(
        batch_size,
        3,
        input_size,
        input_size,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(seed))
    feats = model.backbone(inputs)
    feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
    if feat.dim() != 4:
        report.reason = _pooled_reason(model, feat.shape)
        return report
    if feat.shape[1] != fc.in_features:
        neck = type(getattr(model, 'neck', None)).__name__
        report.reason = (
            f'the classifier takes {fc.in_features} channels but the '
            f"backbone's last map has {feat.shape[1]}: the pooled map is "
            f'built after the backbone (neck {neck}), where CAMRecorder '
            'does not look')
        return report
    report.cam_size = tuple(feat.shape[2:])
    report.source = (f'{report.backbone} last output ({feat.shape[1]}x'
                     f'{feat.shape[2]}x{feat.shape[3]}) -> head.fc '
                     f'({fc.out_features}x{fc.in_features}) as a 1x1 conv')
    logits, cams = logits_and_cams(model, inputs)
    if not isinstance(logits, torch.Tensor) or logits.shape != cams.shape[:2]:
        report.reason = (f'{report.head} does not return one (N, K) logits '
                         'tensor')
        return report
    bias = fc.bias if fc.bias is not None else 0.
    report.difference = float(
        (logits - (cams.mean(dim=(2, 3)) + bias)).abs().max())
    if not report.difference <= TOLERANCE:
        neck = type(getattr(model, 'neck', None)).__name__
        report.reason = (
            f'logits differ from GAP(CAM) + b by {report.difference:.3g}: '
            f'something between the map and the classifier (neck {neck}, '
            f'head {report.head}) is not average pooling')
    return report


def legal_resolutions(*cam_sizes: Tuple[int, int]) -> Tuple[int, List[int]]:
    """The largest CAT resolution r (adaptive pooling needs r <= every H, W)
    and the r that split every map into equal bins."""
    largest = min(min(size) for size in cam_sizes)
    even = [
        r for r in range(1, largest + 1)
        if all(side % r == 0 for size in cam_sizes for side in size)
    ]
    return largest, even


def pair_problem(teacher: CAMReport, student: CAMReport) -> Optional[str]:
    """One sentence saying why the pair cannot do CAT-KD, or None."""
    for role, report in (('teacher', teacher), ('student', student)):
        if not report.exact:
            return (f'the {role} ({report.backbone} + {report.head}) has no '
                    f'exact CAMs: {report.reason}.')
    if teacher.num_classes != student.num_classes:
        return (f'the teacher predicts {teacher.num_classes} classes and the '
                f'student {student.num_classes}: CAT-KD transfers one CAM '
                'per class, so both need the same classes.')
    return None


def format_count(value: float) -> str:
    """1234567 -> '1.23M'."""
    for unit, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(value) >= scale:
            return f'{value / scale:.3g}{unit}'
    return f'{value:.3g}' if not math.isnan(value) else '—'
