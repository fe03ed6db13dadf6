"""How closely a student's class activation maps follow its teacher's.

CAT-KD (Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777)
trains the student to reproduce the teacher's CAMs; this hook measures, at
every validation, how far it got: the CAT loss on the validation set and the
overlap of the two models' binarised top-1 CAMs.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn

from ...evaluation.metrics.cam_iou import mask_overlap
from ...models.cams import logits_and_cams
from ...models.losses.cat_loss import CATLoss, binarize_cams
from ...utils.errors import ConfigError, ConfigTypeError


def top1_cam_agreement(cams_S: torch.Tensor, cams_T: torch.Tensor,
                       teacher_top1: torch.Tensor,
                       size: Sequence[int]) -> torch.Tensor:
    """Per-image IoU of the binarised student and teacher CAMs of one class.

    For each image the CAMs of class ``teacher_top1[i]`` are upsampled
    bilinearly to ``size`` and binarised as CAT's ``binarize`` option does
    (1 where the map exceeds the mean of its absolute values); the IoU of
    the two masks is returned. Two empty masks agree (IoU 1).

    Args:
        cams_S (Tensor): student CAMs (N, K, hs, ws).
        cams_T (Tensor): teacher CAMs (N, K, ht, wt).
        teacher_top1 (Tensor): (N,) the class compared in each image.
        size (Sequence[int]): (H, W), the common size, e.g. the input's.

    Returns:
        Tensor: (N,) IoUs in [0, 1].
    """
    rows = torch.arange(len(teacher_top1), device=cams_T.device)

    def mask(cams):
        cam = cams[rows, teacher_top1][:, None].float()
        cam = F.interpolate(
            cam, size=tuple(size), mode='bilinear', align_corners=False)
        return binarize_cams(cam)[:, 0].bool()

    masks_S, masks_T = mask(cams_S), mask(cams_T)
    ious = []
    for mask_S, mask_T in zip(masks_S, masks_T):
        intersection, union = mask_overlap(mask_S, mask_T)
        ious.append(intersection / union if union else 1.0)
    return torch.tensor(ious)


@HOOKS.register_module()
class CAMAgreementHook(Hook):
    """Logs the student-teacher CAM agreement after every validation.

    On each validation batch of a distillation model (``student`` and
    ``teacher`` attributes, e.g. ``CATDistill``) both models run to their
    CAMs once more, and the hook accumulates

    - ``cam_agreement/cat_loss``: the CAT loss (the distiller's ``CATLoss``,
      beta included, or ``cat_loss`` if given), averaged over images;
    - ``cam_agreement/top1_iou``: the mean over images of
      :func:`top1_cam_agreement` for the teacher's top-1 class, at the
      input size.

    At ``after_val_epoch`` they go to the message hub as ``val/...``, so
    the LoggerHook prints them with the validation metrics and passes them
    to every visualisation backend (TensorBoard, W&B, ``scalars.json``),
    and into the ``metrics`` dict (``save_best`` can use them). A batch is
    counted once even when the validation loop runs it twice (MMRazor's
    ``SingleTeacherDistillValLoop`` also validates the teacher).

    Args:
        cat_loss (dict, optional): a ``CATLoss`` config to use instead of
            the distiller's. Defaults to None.
    """
    priority = 'NORMAL'  # after RuntimeInfoHook, before LoggerHook

    def __init__(self, cat_loss: Optional[Dict] = None) -> None:
        self.cat_loss = CATLoss(**{
            key: value
            for key, value in (cat_loss or {}).items() if key != 'type'
        }) if cat_loss is not None else None
        self._reset()

    def _reset(self) -> None:
        self._seen_batches = set()
        self._sums = torch.zeros(3, dtype=torch.float64)

    @staticmethod
    def _algorithm(runner) -> nn.Module:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if not (hasattr(model, 'student') and hasattr(model, 'teacher')):
            raise ConfigTypeError(
                'CAMAgreementHook needs a distillation model '
                'with `student` and `teacher` (e.g. CATDistill), '
                f'got {type(model).__name__}.')
        return model

    def _loss_module(self, model: nn.Module) -> nn.Module:
        if self.cat_loss is not None:
            return self.cat_loss
        distiller = getattr(model, 'distiller', None)
        losses = [
            module for module in (distiller.modules() if distiller else [])
            if isinstance(module, CATLoss)
        ]
        if len(losses) != 1:
            raise ConfigError(
                f'CAMAgreementHook found {len(losses)} CATLoss modules in the '
                'distiller: pass cat_loss=dict(...) to say which to report.')
        return losses[0]

    def before_val(self, runner) -> None:
        self._reset()

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch=None,
                       outputs=None) -> None:
        if batch_idx in self._seen_batches:
            return
        self._seen_batches.add(batch_idx)
        model = self._algorithm(runner)
        with torch.no_grad():
            inputs = model.data_preprocessor(data_batch, False)['inputs']
            _, cams_S = logits_and_cams(model.student, inputs)
            logits_T, cams_T = logits_and_cams(model.teacher, inputs)
            loss = self._loss_module(model)(cams_S, cams_T)
            ious = top1_cam_agreement(cams_S, cams_T, logits_T.argmax(dim=1),
                                      inputs.shape[-2:])
        num = len(inputs)
        self._sums += torch.tensor(
            [float(loss) * num, float(ious.sum()), num], dtype=torch.float64)

    def after_val_epoch(self, runner, metrics: Optional[Dict] = None) -> None:
        sums = self._sums.clone()
        all_reduce(sums)  # no-op outside distributed runs
        if sums[2] == 0:
            return
        scalars = {
            'cam_agreement/cat_loss': float(sums[0] / sums[2]),
            'cam_agreement/top1_iou': float(sums[1] / sums[2]),
        }
        for key, value in scalars.items():
            runner.message_hub.update_scalar(f'val/{key}', value)
        if metrics is not None:
            metrics.update(scalars)
