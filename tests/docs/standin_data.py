"""Stand-in data sets in exactly the on-disk formats the docs ask for.

The README and ``configs/_base_/datasets/`` tell users to put

- ImageNet-1k under ``data/imagenet`` in MMPretrain's layout:
  ``train/<wnid>/*.JPEG``, ``val/*.JPEG`` and ``meta/train.txt``,
  ``meta/val.txt`` listing ``relative/path.JPEG label`` per line;
- CIFAR-100 under ``data/cifar100`` as the python version of the data set:
  ``cifar-100-python/{train,test,meta}``, pickles whose ``data`` is an
  (N, 3072) uint8 array of the R, G and B planes of 32x32 images, with
  ``fine_labels``, ``coarse_labels``, ``filenames`` and ``batch_label``, and
  ``meta`` with ``fine_label_names`` and ``coarse_label_names``.

- your own image folder (docs/your_own_pair.md) under ``data/custom`` as
  MMPretrain's ``CustomDataset`` reads it: ``train/<class>/*.jpg`` and
  ``val/<class>/*.jpg``, as many class folders as the example's
  ``num_classes`` (``configs/_base_/datasets/custom_folder_bs32.py``).

These builders write a few small images per class in those layouts, so the
shipped configs run through their real dataset classes and pipelines. The
images are random, so no result trained on them means anything.
"""
import os
import os.path as osp
import pickle
from typing import Sequence

import numpy as np

# The first ImageNet-1k classes in MMPretrain's (sorted wnid) order.
IMAGENET_WNIDS = ('n01440764', 'n01443537', 'n01484850', 'n01491361')
CIFAR100_CLASSES = 100
# the class count of configs/_base_/datasets/custom_folder_bs32.py
CUSTOM_FOLDER_CLASSES = ('class_a', 'class_b', 'class_c', 'class_d', 'class_e')


def write_imagenet(root: str,
                   wnids: Sequence[str] = IMAGENET_WNIDS,
                   train_per_class: int = 2,
                   val_per_class: int = 1,
                   size: int = 48) -> str:
    """An ImageNet tree: ``train/<wnid>/<wnid>_<i>.JPEG``,
    ``val/ILSVRC2012_val_<n>.JPEG``, ``meta/{train,val}.txt``.

    Labels are the classes' indices in ImageNet-1k (``wnids`` are taken as
    the first classes of the sorted list). Images are ``size`` x ``size``
    RGB JPEGs, smaller than the pipelines' crops, which scale them up.

    Returns:
        str: ``root``.
    """
    from PIL import Image
    rng = np.random.default_rng(0)

    def jpeg(path):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, format='JPEG')

    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    os.makedirs(osp.join(root, 'val'), exist_ok=True)
    train_lines, val_lines = [], []
    val_index = 0
    for label, wnid in enumerate(wnids):
        os.makedirs(osp.join(root, 'train', wnid), exist_ok=True)
        for index in range(train_per_class):
            name = f'{wnid}/{wnid}_{index}.JPEG'
            jpeg(osp.join(root, 'train', name))
            train_lines.append(f'{name} {label}')
        for _ in range(val_per_class):
            val_index += 1
            name = f'ILSVRC2012_val_{val_index:08d}.JPEG'
            jpeg(osp.join(root, 'val', name))
            val_lines.append(f'{name} {label}')
    for split, lines in (('train', train_lines), ('val', val_lines)):
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as file:
            file.write('\n'.join(lines) + '\n')
    return root


def write_cifar100(root: str,
                   train_per_class: int = 2,
                   test_per_class: int = 1) -> str:
    """``root/cifar-100-python/{train,test,meta}`` with the real pickle keys.

    Every one of the 100 classes has ``train_per_class`` training and
    ``test_per_class`` test images (coarse labels: fine label // 5).

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(0)
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    for split, per_class in (('train', train_per_class), ('test',
                                                          test_per_class)):
        fine = [c for c in range(CIFAR100_CLASSES) for _ in range(per_class)]
        entry = {
            'filenames':
            [f'standin_{split}_{i}.png'
             for i in range(len(fine))],  # noqa: E501
            'batch_label': f'{split} batch (stand-in)',
            'fine_labels': fine,
            'coarse_labels': [label // 5 for label in fine],
            'data':
            rng.integers(0, 256, (len(fine), 3 * 32 * 32), dtype=np.uint8),
        }
        with open(osp.join(folder, split), 'wb') as file:
            pickle.dump(entry, file)
    meta = {
        'fine_label_names': [f'class{c}' for c in range(CIFAR100_CLASSES)],
        'coarse_label_names': [f'superclass{c}' for c in range(20)],
    }
    with open(osp.join(folder, 'meta'), 'wb') as file:
        pickle.dump(meta, file)
    return root


def write_image_folder(root: str,
                       classes: Sequence[str] = CUSTOM_FOLDER_CLASSES,
                       per_class: int = 1,
                       size: int = 48) -> str:
    """``root/{train,val}/<class>/<class>_<i>.jpg``, the layout of an image
    folder that MMPretrain's ``CustomDataset`` reads without an annotation
    file (classes: the sub-folders, sorted).

    Returns:
        str: ``root``.
    """
    from PIL import Image
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for name in classes:
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for index in range(per_class):
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(
                    osp.join(folder, f'{name}_{index}.jpg'), format='JPEG')
    return root
