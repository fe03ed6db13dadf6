"""The attention and fidelity analysis of several classifiers on one
dataset (``tools/analyze_attention.py``).

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention
and Fidelity Mechanism" (ESWA 2025, https://arxiv.org/abs/2405.00739): the
measurements are those of :mod:`mmcatkd.evaluation` (calibration,
fidelity, CAM IoU, affinity); this module runs the models over a dataset
and gathers them.
"""
import itertools
from typing import Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed

from ..evaluation import (CAMIoU, affinity, expected_calibration_error,
                          fidelity_kl, kl_divergence, prediction_entropy,
                          top1_agreement)
from ..models import logits_and_cams


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of logits (N, K) against labels (N,)."""
    return (logits.argmax(dim=1) == labels).float().mean().item()


def build_loader(data_cfg: Config,
                 split: str,
                 batch_size: int,
                 max_images: int,
                 pipeline=None):
    """The split's dataloader, unshuffled, optionally with another pipeline
    and only the first ``max_images`` images."""
    loader_cfg = data_cfg[f'{split}_dataloader'].to_dict()
    dataset = dict(loader_cfg['dataset'])
    if pipeline is not None:
        dataset['pipeline'] = pipeline
    if max_images:
        dataset['indices'] = max_images
    return Runner.build_dataloader(
        dict(
            loader_cfg,
            dataset=dataset,
            batch_size=batch_size,
            num_workers=0,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=False)))


@torch.no_grad()
def run_models(
    models: Dict[str, torch.nn.Module], loader, threshold: float, device: str
) -> Tuple[Dict[str, torch.Tensor], torch.Tensor, Dict[str, float]]:
    """Logits (N, K) of every model, the labels (N,), and the CAM IoU of
    every pair of models (``'a-b'``) and, for three or more, of all of them
    (``'all'``), measured by :class:`~mmcatkd.evaluation.CAMIoU` on the
    class-summed CAMs of each image at the input size."""
    names = list(models)
    cam_iou = CAMIoU(threshold=threshold, names=names)
    logits = {name: [] for name in names}
    labels = []
    for batch in loader:
        summed_cams = {}
        for name, model in models.items():
            data = model.data_preprocessor(batch, False)
            inputs = data['inputs'].to(device)
            batch_logits, cams = logits_and_cams(model, inputs)
            logits[name].append(batch_logits.float().cpu())
            summed_cams[name] = cams.sum(dim=1)
        labels.append(
            torch.cat([
                sample.gt_label.reshape(-1)[:1]
                for sample in data['data_samples']
            ]))
        cam_iou.process(batch, [
            dict(
                cams=[summed_cams[name][index] for name in names],
                batch_input_shape=tuple(inputs.shape[-2:]))
            for index in range(len(inputs))
        ])
    return ({
        name: torch.cat(value)
        for name, value in logits.items()
    }, torch.cat(labels), cam_iou.compute_metrics(cam_iou.results))


def analyse(logits: Dict[str, torch.Tensor], labels: torch.Tensor,
            cam_ious: Dict[str, float], num_bins: int) -> dict:
    """The per-model, per-pair and ensemble measurements as one dict, from
    :func:`run_models`' logits, labels and CAM IoUs."""
    names = list(logits)
    results = dict(num_images=len(labels), models={}, pairs={})
    for name, model_logits in logits.items():
        probs = model_logits.softmax(dim=1)
        results['models'][name] = dict(
            accuracy=accuracy(model_logits, labels),
            ece=expected_calibration_error(probs, labels, num_bins),
            ece_unweighted=expected_calibration_error(
                probs, labels, num_bins, unweighted=True),
            entropy=prediction_entropy(model_logits))
    for first, second in itertools.combinations(names, 2):
        results['pairs'][f'{first}-{second}'] = dict(
            top1_agreement=top1_agreement(logits[first], logits[second]),
            kl=kl_divergence(logits[second], logits[first]),
            kl_authors=fidelity_kl(logits[second], logits[first]),
            cam_iou=cam_ious[f'{first}-{second}'])
    if 'all' in cam_ious:
        results['cam_iou_all'] = cam_ious['all']
    if len(names) > 2:
        first, others = names[0], names[1:]
        ensemble = torch.stack([logits[name] for name in others]).mean(0)
        results['ensemble'] = dict(
            model=first,
            of=others,
            top1_agreement=top1_agreement(logits[first], ensemble),
            kl=kl_divergence(ensemble, logits[first]),
            kl_authors=fidelity_kl(ensemble, logits[first]),
            ensemble_accuracy=accuracy(ensemble, labels))
    return results


def with_affinity(results: dict,
                  models: Dict[str, torch.nn.Module],
                  data_cfg: Config,
                  aug_cfg: Config,
                  split: str,
                  batch_size: int,
                  max_images: int,
                  threshold: float,
                  device: str,
                  seed: int,
                  logits: Dict[str, torch.Tensor],
                  labels: torch.Tensor,
                  base: str = 'crop') -> None:
    """Add each model's accuracy under ``aug_cfg``'s training augmentation,
    its accuracy on the base views and their ratio (the affinity of Guo et
    al., ESWA 2025) to ``results['models']``.

    The base views are the images through ``aug_cfg.base_pipeline``
    (``base='crop'``, the authors') or the test views, whose ``logits``
    and ``labels`` (N,) are given.
    """
    base_logits = logits
    if base == 'crop':
        set_random_seed(seed + 1)
        base_logits, base_labels, _ = run_models(
            models,
            build_loader(
                data_cfg,
                split,
                batch_size,
                max_images,
                pipeline=aug_cfg.base_pipeline), threshold, device)
        if not torch.equal(base_labels, labels):
            raise RuntimeError('the base pass saw other images than '
                               'the test pass.')
    set_random_seed(seed)
    aug_loader = build_loader(
        data_cfg,
        split,
        batch_size,
        max_images,
        pipeline=aug_cfg.train_dataloader.dataset.pipeline)
    aug_logits, aug_labels, _ = run_models(models, aug_loader, threshold,
                                           device)
    if not torch.equal(aug_labels, labels):
        raise RuntimeError('the augmented pass saw other images than '
                           'the base pass.')
    for name in models:
        correct_aug = aug_logits[name].argmax(dim=1) == labels
        correct_base = base_logits[name].argmax(dim=1) == labels
        results['models'][name].update(
            accuracy_augmented=correct_aug.float().mean().item(),
            accuracy_base=correct_base.float().mean().item(),
            affinity=affinity(correct_aug, correct_base))
