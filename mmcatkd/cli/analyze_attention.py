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

from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmcatkd  # noqa: F401  (compat workarounds + registration, first)
from mmcatkd.apis import load_classifier
from mmcatkd.apis.attention_analysis import (analyse, build_loader, run_models,
                                             with_affinity)
from mmcatkd.engine.cli import CfgOptionsAction, entry_point
from mmcatkd.utils.atomic_file import atomic_json_dump
from mmcatkd.utils.output_paths import check_output_file


def format_table(results: dict) -> str:
    """The results as plain-text tables."""
    lines = [f'{results["num_images"]} images']
    with_affinity = any('affinity' in row
                        for row in results['models'].values())
    header = (f'{"model":<16}{"acc":>8}{"ECE":>8}{"ECE-unw":>9}'
              f'{"entropy":>9}' +
              (f'{"acc-aug":>9}{"affinity":>9}' if with_affinity else ''))
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
    parser.add_argument(
        'data_config',
        help='config whose test_dataloader '
        '(and train pipeline, for --affinity) to use')
    parser.add_argument(
        '--model',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
        help='a model to analyse; repeat for each (at least two)')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.4,
        help='CAM binarisation threshold (default 0.4)')
    parser.add_argument(
        '--num-bins',
        type=int,
        default=10,
        help='ECE confidence bins (default 10)')
    parser.add_argument(
        '--affinity',
        action='store_true',
        help='also evaluate under the training augmentation')
    parser.add_argument(
        '--aug-config',
        help='config whose train pipeline '
        '(and base_pipeline) --affinity applies (default: '
        'DATA_CONFIG)')
    parser.add_argument(
        '--affinity-base',
        choices=['crop', 'test'],
        default='crop',
        help="affinity's denominator: the views of the config's "
        "base_pipeline (the authors': RandomResizedCrop alone; default) or "
        'the test views')
    parser.add_argument(
        '--max-images',
        type=int,
        default=0,
        help='only the first N images (default: all)')
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the --affinity augmentation')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--force',
        action='store_true',
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
        dict(
            config=[args.data_config, args.aug_config] +
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
    logits, labels, cam_ious = run_models(models, loader, args.threshold,
                                          args.device)
    results = analyse(logits, labels, cam_ious, args.num_bins)
    results.update(
        data_config=args.data_config,
        split=args.split,
        threshold=args.threshold,
        num_bins=args.num_bins,
        checkpoints={
            name: checkpoint
            for name, _, checkpoint in args.model
        })

    if args.affinity:
        aug_cfg = data_cfg if args.aug_config is None else Config.fromfile(
            args.aug_config)
        if args.affinity_base == 'crop' and 'base_pipeline' not in aug_cfg:
            raise SystemExit(
                f'{args.aug_config or args.data_config} defines no '
                'base_pipeline (the RandomResizedCrop-only views '
                "affinity divides by): add one, or pass "
                '--affinity-base test to divide by the test views.')
        with_affinity(
            results,
            models,
            data_cfg,
            aug_cfg,
            args.split,
            args.batch_size,
            args.max_images,
            args.threshold,
            args.device,
            args.seed,
            logits,
            labels,
            base=args.affinity_base)
        results['affinity_base'] = args.affinity_base
        results['aug_config'] = args.aug_config or args.data_config

    print(format_table(results))
    if args.out:
        atomic_json_dump(results, args.out, indent=2)
        print(f'wrote {args.out}')
    return results
