"""Attention and fidelity of several classifiers on one dataset.

    python tools/analyze_attention.py DATA_CONFIG \
        --model student STUDENT_CONFIG STUDENT.pth \
        --model t_weak TEACHER_CONFIG T_WEAK.pth \
        --model t_strong TEACHER_CONFIG T_STRONG.pth \
        [--affinity] [--out results.json]

The measurements of Guo et al., "Why does Knowledge Distillation Work?
Rethink its Attention and Fidelity Mechanism" (ESWA 2025,
https://arxiv.org/abs/2405.00739), defined in :mod:`mmcatkd.evaluation`:

- per model: top-1 accuracy, ECE (count-weighted and the authors'
  unweighted mean over 10 bins), mean prediction entropy and, with
  ``--affinity``, the accuracy under the training augmentation of
  DATA_CONFIG (or ``--aug-config``) divided by the accuracy on the base
  views: as the authors measure it, the images through the config's
  ``base_pipeline`` (RandomResizedCrop(0.2-1) alone,
  ``--affinity-base crop``), or through the test pipeline
  (``--affinity-base test``);
- per pair (a, b): top-1 agreement (fidelity), KL(p_b || p_a) (with the
  student listed first: KL(teacher || student), the direction of the KD
  loss), the authors' ``kl_authors`` = 10 KL(p_a || p_b) and the IoU of
  their binarised class-summed CAMs;
- with three or more models: the first model against the ensemble (mean
  logits) of the others, and the CAM IoU of all models together.

A model is a config and a checkpoint: a plain MMPretrain classifier config,
or a distillation config, whose student (``architecture``) is taken, with
the ``architecture.*`` weights of its checkpoint. The dataset is the
``test_dataloader`` (``--split val``: ``val_dataloader``) of DATA_CONFIG,
in order; each model normalises the images with its own preprocessor.
"""
import argparse
import itertools
from typing import Dict, List, Tuple

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed

from mmcatkd.utils.atomic_file import atomic_json_dump
from mmcatkd.engine.cli import CfgOptionsAction, entry_point
from mmcatkd.evaluation import (affinity, cam_masks,
                                expected_calibration_error, fidelity_kl,
                                kl_divergence,
                                mask_overlap, prediction_entropy,
                                top1_agreement)
from mmcatkd.apis import load_classifier
from mmcatkd.models import logits_and_cams
from mmcatkd.utils.output_paths import check_output_file


def build_loader(data_cfg: Config, split: str, batch_size: int,
                 max_images: int, pipeline=None):
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
def run_models(models: Dict[str, torch.nn.Module], loader, threshold: float,
               device: str) -> Tuple[Dict[str, torch.Tensor], torch.Tensor,
                                     Dict[Tuple[str, ...], List[int]]]:
    """Logits of every model, the labels, and the pooled CAM overlaps
    (intersection, union) of every pair of models and of all of them."""
    names = list(models)
    groups = list(itertools.combinations(names, 2))
    if len(names) > 2:
        groups.append(tuple(names))
    overlaps = {group: [0, 0] for group in groups}
    logits = {name: [] for name in names}
    labels = []
    for batch in loader:
        masks = {}
        for name, model in models.items():
            data = model.data_preprocessor(batch, False)
            inputs = data['inputs'].to(device)
            batch_logits, cams = logits_and_cams(model, inputs)
            logits[name].append(batch_logits.float().cpu())
            masks[name] = cam_masks(cams.sum(dim=1), inputs.shape[-2:],
                                    threshold)
        labels.append(
            torch.cat([
                sample.gt_label.reshape(-1)[:1]
                for sample in data['data_samples']
            ]))
        for group in groups:
            intersection, union = mask_overlap(*(masks[n] for n in group))
            overlaps[group][0] += intersection
            overlaps[group][1] += union
    return ({name: torch.cat(value)
             for name, value in logits.items()}, torch.cat(labels), overlaps)


def analyse(logits: Dict[str, torch.Tensor], labels: torch.Tensor,
            overlaps: Dict[Tuple[str, ...], List[int]],
            num_bins: int) -> dict:
    """The per-model, per-pair and ensemble measurements as one dict."""
    names = list(logits)
    results = dict(num_images=len(labels), models={}, pairs={})
    for name, model_logits in logits.items():
        probs = model_logits.softmax(dim=1)
        results['models'][name] = dict(
            accuracy=(model_logits.argmax(dim=1) == labels).float().mean(
            ).item(),
            ece=expected_calibration_error(probs, labels, num_bins),
            ece_unweighted=expected_calibration_error(
                probs, labels, num_bins, unweighted=True),
            entropy=prediction_entropy(model_logits))
    for group, (intersection, union) in overlaps.items():
        iou = intersection / union if union else float('nan')
        if len(group) == 2:
            first, second = group
            results['pairs'][f'{first}-{second}'] = dict(
                top1_agreement=top1_agreement(logits[first], logits[second]),
                kl=kl_divergence(logits[second], logits[first]),
                kl_authors=fidelity_kl(logits[second], logits[first]),
                cam_iou=iou)
        else:
            results['cam_iou_all'] = iou
    if len(names) > 2:
        first, others = names[0], names[1:]
        ensemble = torch.stack([logits[name] for name in others]).mean(0)
        results['ensemble'] = dict(
            model=first,
            of=others,
            top1_agreement=top1_agreement(logits[first], ensemble),
            kl=kl_divergence(ensemble, logits[first]),
            kl_authors=fidelity_kl(ensemble, logits[first]),
            ensemble_accuracy=(ensemble.argmax(dim=1) == labels).float().mean(
            ).item())
    return results


def format_table(results: dict) -> str:
    """The results as plain-text tables."""
    lines = [f'{results["num_images"]} images']
    with_affinity = any('affinity' in row
                        for row in results['models'].values())
    header = (f'{"model":<16}{"acc":>8}{"ECE":>8}{"ECE-unw":>9}'
              f'{"entropy":>9}' + (f'{"acc-aug":>9}{"affinity":>9}'
                                   if with_affinity else ''))
    lines += ['', header]
    for name, row in results['models'].items():
        line = (f'{name:<16}{row["accuracy"]:8.4f}{row["ece"]:8.4f}'
                f'{row["ece_unweighted"]:9.4f}{row["entropy"]:9.4f}')
        if with_affinity:
            line += f'{row["accuracy_augmented"]:9.4f}{row["affinity"]:9.4f}'
        lines.append(line)
    lines += [
        '', f'{"pair a-b":<32}{"top1-agree":>11}{"KL(b||a)":>10}'
        f'{"CAM IoU":>9}'
    ]
    for pair, row in results['pairs'].items():
        lines.append(f'{pair:<32}{row["top1_agreement"]:11.4f}'
                     f'{row["kl"]:10.4f}{row["cam_iou"]:9.4f}')
    if 'ensemble' in results:
        ensemble = results['ensemble']
        lines += [
            '', f'{ensemble["model"]} vs ensemble of '
            f'{", ".join(ensemble["of"])}: top-1 agreement '
            f'{ensemble["top1_agreement"]:.4f}, KL(ens||{ensemble["model"]}) '
            f'{ensemble["kl"]:.4f}, ensemble accuracy '
            f'{ensemble["ensemble_accuracy"]:.4f}',
            f'CAM IoU of all {len(results["models"])} models: '
            f'{results["cam_iou_all"]:.4f}'
        ]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('data_config', help='config whose test_dataloader '
                        '(and train pipeline, for --affinity) to use')
    parser.add_argument(
        '--model',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
        help='a model to analyse; repeat for each (at least two)')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--threshold', type=float, default=0.4,
                        help='CAM binarisation threshold (default 0.4)')
    parser.add_argument('--num-bins', type=int, default=10,
                        help='ECE confidence bins (default 10)')
    parser.add_argument('--affinity', action='store_true',
                        help='also evaluate under the training augmentation')
    parser.add_argument('--aug-config', help='config whose train pipeline '
                        '(and base_pipeline) --affinity applies (default: '
                        'DATA_CONFIG)')
    parser.add_argument(
        '--affinity-base', choices=['crop', 'test'], default='crop',
        help="affinity's denominator: the views of the config's "
        "base_pipeline (the authors': RandomResizedCrop alone; default) or "
        'the test views')
    parser.add_argument('--max-images', type=int, default=0,
                        help='only the first N images (default: all)')
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the --affinity augmentation')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--force', action='store_true',
        help='replace the --out file if it exists (never an input)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override DATA_CONFIG entries, xxx=yyy')
    args = parser.parse_args(argv)
    names = [name for name, _, _ in args.model]
    if len(args.model) < 2 or len(set(names)) != len(names):
        parser.error('give at least two --model entries with distinct names.')
    return args


@entry_point
def main(argv=None) -> dict:
    args = parse_args(argv)
    check_output_file(
        args.out,
        dict(config=[args.data_config, args.aug_config] +
             [config for _, config, _ in args.model],
             checkpoint=[checkpoint for _, _, checkpoint in args.model]),
        force=args.force)
    data_cfg = Config.fromfile(args.data_config)
    if args.cfg_options:
        data_cfg.merge_from_dict(args.cfg_options)
    init_default_scope(data_cfg.get('default_scope', 'mmpretrain'))
    models = {
        name: load_classifier(config, checkpoint).to(args.device)
        for name, config, checkpoint in args.model
    }
    loader = build_loader(data_cfg, args.split, args.batch_size,
                          args.max_images)
    logits, labels, overlaps = run_models(models, loader, args.threshold,
                                          args.device)
    results = analyse(logits, labels, overlaps, args.num_bins)
    results.update(
        data_config=args.data_config,
        split=args.split,
        threshold=args.threshold,
        num_bins=args.num_bins,
        checkpoints={name: checkpoint
                     for name, _, checkpoint in args.model})

    if args.affinity:
        aug_cfg = data_cfg if args.aug_config is None else Config.fromfile(
            args.aug_config)
        base_logits = logits
        if args.affinity_base == 'crop':
            if 'base_pipeline' not in aug_cfg:
                raise SystemExit(
                    f'{args.aug_config or args.data_config} defines no '
                    'base_pipeline (the RandomResizedCrop-only views '
                    "affinity divides by): add one, or pass "
                    '--affinity-base test to divide by the test views.')
            set_random_seed(args.seed + 1)
            base_logits, base_labels, _ = run_models(
                models,
                build_loader(data_cfg, args.split, args.batch_size,
                             args.max_images, pipeline=aug_cfg.base_pipeline),
                args.threshold, args.device)
            if not torch.equal(base_labels, labels):
                raise RuntimeError('the base pass saw other images than '
                                   'the test pass.')
        set_random_seed(args.seed)
        aug_loader = build_loader(
            data_cfg, args.split, args.batch_size, args.max_images,
            pipeline=aug_cfg.train_dataloader.dataset.pipeline)
        aug_logits, aug_labels, _ = run_models(models, aug_loader,
                                               args.threshold, args.device)
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
        results['affinity_base'] = args.affinity_base
        results['aug_config'] = args.aug_config or args.data_config

    print(format_table(results))
    if args.out:
        atomic_json_dump(results, args.out, indent=2)
        print(f'wrote {args.out}')
    return results
