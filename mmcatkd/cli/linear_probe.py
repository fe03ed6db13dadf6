"""Linear probe: how well a trained student's features transfer (CAT-KD
Table 9, after CRD).

Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777, Table 9:
the student's backbone is frozen and a new linear classifier is trained on
another data set; its top-1 accuracy measures the transferred features.

    python tools/linear_probe.py CONFIG CKPT --probe-config DATA_CFG \
        [--epochs 10] [--lr 0.1] [--batch-size 64] [--out probe.pth]

CONFIG/CKPT: a classifier or distillation config and its checkpoint (the
student is probed; see tools/visualize_cam.py). DATA_CFG: a config with
``train_dataloader`` and ``val_dataloader`` of the probe data set (e.g.
configs/demo/_base_/probe_digits_5-9.py); its number of classes sets the
new head's. The backbone runs in eval mode (its BatchNorm statistics do not
move) under ``no_grad``; only the new ``head.fc`` is trained, by SGD with a
cosine schedule, on the student's own input normalisation.
"""
import argparse
import copy
import os
from typing import Dict, Optional

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # see tools/demo.py

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from torch import nn  # noqa: E402

import mmcatkd  # noqa: E402,F401  (compat workarounds + registration, first)
from mmcatkd.apis import load_classifier  # noqa: E402
from mmcatkd.engine.cli import entry_point  # noqa: E402
from mmcatkd.models import classifier_of  # noqa: E402
from mmcatkd.utils.atomic_file import atomic_torch_save  # noqa: E402
from mmcatkd.utils.errors import ConfigError, ConfigKeyError  # noqa: E402
from mmcatkd.utils.output_paths import check_output_file  # noqa: E402


def _features(model: nn.Module, inputs: torch.Tensor):
    feats = model.backbone(inputs)
    if getattr(model, 'neck', None) is not None:
        feats = model.neck(feats)
    return feats


def _probe_loader(loader_cfg: dict, shuffle: bool, batch_size: Optional[int],
                  seed: int):
    loader_cfg = copy.deepcopy(loader_cfg)
    # epochs need a finite sampler (the demo configs train with an
    # InfiniteSampler)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=shuffle)
    loader_cfg['drop_last'] = False
    loader_cfg.pop('persistent_workers', None)
    if batch_size:
        loader_cfg['batch_size'] = batch_size
    init_default_scope('mmpretrain')
    return Runner.build_dataloader(loader_cfg, seed=seed)


def accuracy(model: nn.Module, loader) -> float:
    """Top-1 (%) of ``model`` over ``loader``."""
    correct = total = 0
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            logits = model.head(_features(model, data['inputs']))
            labels = torch.cat(
                [sample.gt_label for sample in data['data_samples']])
            correct += int((logits.argmax(1) == labels).sum())
            total += len(labels)
    return 100.0 * correct / total


def linear_probe(config: str,
                 checkpoint: str,
                 probe_config: str,
                 epochs: int = 10,
                 lr: float = 0.1,
                 batch_size: Optional[int] = None,
                 seed: int = 0,
                 device: str = 'cpu',
                 out: Optional[str] = None) -> Dict:
    """Train a new linear head on the frozen student; return its accuracy.

    Returns:
        dict: ``top1`` (%) on the probe's val split, ``num_classes`` and
        ``model`` (the student with its new head).
    """
    if epochs < 1:
        raise ConfigError(f'epochs must be >= 1, got {epochs}.')
    torch.manual_seed(seed)
    model = load_classifier(config, checkpoint, device=device)
    probe_cfg = Config.fromfile(probe_config)
    for key in ('train_dataloader', 'val_dataloader'):
        if not probe_cfg.get(key):
            raise ConfigKeyError(f'{probe_config} defines no {key}: the probe '
                                 'config gives the data set to probe on.')
    train_loader = _probe_loader(probe_cfg.train_dataloader.to_dict(), True,
                                 batch_size, seed)
    val_loader = _probe_loader(probe_cfg.val_dataloader.to_dict(), False,
                               batch_size, seed)
    num_classes = len(train_loader.dataset.metainfo['classes'])

    old_fc = classifier_of(model.head)
    model.head.fc = nn.Linear(old_fc.in_features, num_classes).to(device)
    model.head.num_classes = num_classes
    model.requires_grad_(False)
    model.head.fc.requires_grad_(True)
    model.eval()  # frozen BatchNorm statistics as well as weights

    optimizer = torch.optim.SGD(
        model.head.fc.parameters(), lr=lr, momentum=0.9, weight_decay=0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * len(train_loader))
    for epoch in range(epochs):
        running = 0.0
        for batch in train_loader:
            data = model.data_preprocessor(batch, False)
            with torch.no_grad():
                feats = _features(model, data['inputs'])
            labels = torch.cat(
                [sample.gt_label for sample in data['data_samples']])
            loss = F.cross_entropy(model.head(feats), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
        print(f'epoch {epoch + 1}/{epochs}: train loss '
              f'{running / len(train_loader):.4f}')
    top1 = accuracy(model, val_loader)
    if out:
        atomic_torch_save(
            dict(
                state_dict=model.state_dict(),
                meta=dict(
                    dataset_meta=train_loader.dataset.metainfo,
                    linear_probe_top1=top1)), out)
    return dict(top1=top1, num_classes=num_classes, model=model)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Linear probe of a trained student (frozen backbone).')
    parser.add_argument('config', help='classifier or distillation config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument(
        '--probe-config',
        required=True,
        help='config with the probe data set dataloaders')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--lr', type=float, default=0.1)
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help="default: the probe config's")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='save the probed model here')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace the --out file if it exists (never an input)')
    return parser.parse_args(argv)


@entry_point
def main(argv=None) -> None:
    args = parse_args(argv)
    check_output_file(
        args.out,
        dict(
            config=[args.config, args.probe_config],
            checkpoint=args.checkpoint),
        force=args.force)
    result = linear_probe(args.config, args.checkpoint, args.probe_config,
                          args.epochs, args.lr, args.batch_size, args.seed,
                          args.device, args.out)
    print(f'linear probe top-1: {result["top1"]:.2f} % '
          f'({result["num_classes"]} classes)')
