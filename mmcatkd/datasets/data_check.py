"""Fail before training when a config's data set is not on disk.

MMEngine's Runner builds the model (and may download a teacher checkpoint)
before its dataloaders, and MMPretrain's ``CIFAR100`` downloads itself when
``download=True``. :func:`check_datasets` runs on the config, before the
Runner exists, and raises one sentence that says where the data set goes and
in what layout. ``tools/train.py`` and ``tools/test.py`` call it.

Only the data sets whose layout is known are checked (MMPretrain's
``CIFAR10``, ``CIFAR100`` and ``ImageNet``, also inside dataset wrappers;
a ``CustomDataset`` folder without annotation file that holds no image);
any other type is left to its own loader.
"""
import inspect
import os
import os.path as osp
from typing import Iterator, Optional, Sequence

from mmengine.config import Config

# MMPretrain's folder and files of the python version of each CIFAR set.
CIFAR_LAYOUTS = {
    'CIFAR10':
    ('CIFAR-10', 'cifar-10-batches-py', 'cifar-10-python.tar.gz',
     ('data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4',
      'data_batch_5', 'test_batch', 'batches.meta')),
    'CIFAR100': ('CIFAR-100', 'cifar-100-python', 'cifar-100-python.tar.gz',
                 ('train', 'test', 'meta')),
}
CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html'
TRAIN_AND_VAL = ('train_dataloader', 'val_dataloader')


def check_datasets(cfg: Config,
                   dataloaders: Sequence[str] = TRAIN_AND_VAL) -> None:
    """Raise unless the data sets of ``cfg``'s ``dataloaders`` are on disk.

    Args:
        cfg (Config): the experiment config (after ``--cfg-options``).
        dataloaders (Sequence[str]): the dataloader keys the caller will
            use. Defaults to ('train_dataloader', 'val_dataloader').

    Raises:
        FileNotFoundError: a CIFAR or ImageNet data set is missing; the
            message says where to put it and in what layout.
    """
    for key in dataloaders:
        loader = cfg.get(key)
        if not loader or not loader.get('dataset'):
            continue
        for dataset in _leaf_datasets(loader['dataset']):
            problem = _missing_data(dataset, f'{key}.dataset.data_root')
            if problem:
                raise FileNotFoundError(problem)


def _leaf_datasets(dataset: dict) -> Iterator[dict]:
    """The configs of the data sets inside wrappers (Repeat, Concat, ...)."""
    if 'dataset' in dataset:
        yield from _leaf_datasets(dataset['dataset'])
    elif 'datasets' in dataset:
        for inner in dataset['datasets']:
            yield from _leaf_datasets(inner)
    else:
        yield dataset


def _type_name(dataset: dict) -> str:
    kind = dataset.get('type', '')
    # 'mmpretrain.CIFAR100' and the class itself both name CIFAR100
    return kind.__name__ if isinstance(kind, type) else kind.split('.')[-1]


def _prefix(data_prefix, default: str = '') -> str:
    if isinstance(data_prefix, dict):
        data_prefix = data_prefix.get('img_path', data_prefix.get('root'))
    return data_prefix or default


def _missing_data(dataset: dict, option: str) -> Optional[str]:
    """The sentence to raise for ``dataset``, or None if it looks complete."""
    kind = _type_name(dataset)
    data_root = dataset.get('data_root', '') or ''
    if '://' in data_root:
        return None  # remote storage: left to MMEngine's file backends
    if kind in CIFAR_LAYOUTS:
        name, folder, archive, files = CIFAR_LAYOUTS[kind]
        root = osp.normpath(
            osp.join(data_root, _prefix(dataset.get('data_prefix'))))
        if all(osp.isfile(osp.join(root, folder, file)) for file in files):
            return None
        return (f'{name} is not in {root}: download {archive} (the '
                f'python version, {CIFAR_URL}) and extract it there so that '
                f'{osp.join(root, folder)}/{{{",".join(files)}}} exist, or '
                f'set {option} to the folder that holds {folder}/ '
                '(it is never downloaded automatically).')
    if kind == 'ImageNet':
        split = dataset.get('split', '')
        images = osp.normpath(
            osp.join(data_root, _prefix(dataset.get('data_prefix'), split)))
        ann_file = dataset.get('ann_file', '')
        ann_path = osp.join(data_root, ann_file) if ann_file else ''
        if osp.isdir(images) and (not ann_path or osp.isfile(ann_path)):
            return None
        missing = images if not osp.isdir(images) else ann_path
        return (f'ImageNet is not in {data_root or "."} ({missing} is '
                "missing): put it there in MMPretrain's layout, "
                f'{osp.join(data_root, "train")}/<wnid>/*.JPEG and '
                f'{osp.join(data_root, "val")}/*.JPEG with '
                f'{osp.join(data_root, "meta")}/{{train,val}}.txt listing '
                '"relative/path.JPEG label" per line, or set '
                f'{option} to where it is.')
    if kind == 'CustomDataset' and not dataset.get('ann_file'):
        return _empty_image_folder(dataset, data_root, option)
    return None


def _holds_an_image(root: str, extensions: Sequence[str]) -> bool:
    """Whether any file under ``root`` has one of ``extensions`` (stops at
    the first one)."""
    for _, _, files in os.walk(root, followlinks=True):
        if any(name.lower().endswith(tuple(extensions)) for name in files):
            return True
    return False


def _empty_image_folder(dataset: dict, data_root: str,
                        option: str) -> Optional[str]:
    """A ``CustomDataset`` folder that exists and holds no image (MMPretrain
    fails with a ``RuntimeError`` and a traceback)."""
    from mmpretrain.datasets import CustomDataset
    root = osp.normpath(
        osp.join(data_root, _prefix(dataset.get('data_prefix'))))
    extensions = dataset.get('extensions') or inspect.signature(
        CustomDataset.__init__).parameters['extensions'].default
    if not osp.isdir(root) or _holds_an_image(root, extensions):
        return None  # a missing folder: MMPretrain's own sentence
    return (f'the image folder {root} holds no images '
            f'({", ".join(extensions)}): put them in {root}/<class>/ (one '
            f'subfolder per class), or set {option} to where they are.')
