"""The finite set of views a training pipeline produces, for the CAM cache.

CAT-KD's teacher CAMs (Guo et al., CVPR 2023, Eq. 5) depend on the image the
teacher sees. CIFAR's augmentation (RandomCrop 32, padding 4; horizontal flip
with probability 0.5) produces 81 x 2 distinct images per training image, so
the teacher CAMs of all of them can be computed once (:mod:`.builder`)
and looked up by (image, view) during training. This module says which
pipelines qualify, renders all views of a batch of images exactly as the
pipeline would, records the view a pipeline drew (:class:`ViewRandomCrop`;
MMCV's ``RandomFlip`` already records ``flip``) and fingerprints a dataset.
"""
import hashlib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs, RandomCrop
from mmpretrain.registry import TRANSFORMS

from ..utils.errors import ConfigError
from .format import (CROP_OFFSET_KEY, CROP_STEP, FLIP_KEY, FLIP_STEP,
                     SAMPLE_IDX_KEY, VIEW_META_KEYS, num_views)

# Transforms that give the same output for the same input.
DETERMINISTIC = ('LoadImageFromFile', 'Resize', 'ResizeEdge', 'CenterCrop')
FLIP = 'RandomFlip'  # MMCV's; it records FLIP_KEY by itself
PACK = PackInputs.__name__
DEFAULT_META_KEYS = PackInputs.DEFAULT_META_KEYS


@TRANSFORMS.register_module()
class ViewRandomCrop(RandomCrop):
    """MMPretrain's ``RandomCrop`` that records the crop it drew.

    Adds ``crop_offset = (offset_h, offset_w)``, the crop's top-left corner
    in the padded image, to the results; list ``'crop_offset'`` in
    ``PackInputs(meta_keys=...)`` to keep it in the data sample's metainfo.
    The images are those of ``RandomCrop`` with the same arguments.
    Registered in MMPretrain's ``TRANSFORMS``.
    """

    def rand_crop_params(self, img: np.ndarray):
        params = super().rand_crop_params(img)
        self._drawn_offset = (int(params[0]), int(params[1]))
        return params

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        results[CROP_OFFSET_KEY] = self._drawn_offset
        return results


RANDOM_CROP = RandomCrop.__name__
VIEW_CROP = ViewRandomCrop.__name__
CROPS = (RANDOM_CROP, VIEW_CROP)


def type_name(cfg: Dict) -> str:
    """The type of a config (a pipeline step, a model) without its registry
    scope: 'mmpretrain.RandomCrop' -> 'RandomCrop'; '' without a type."""
    return str(cfg.get('type', '')).split('.')[-1]


def _padding(padding) -> Tuple[int, int, int, int]:
    """MMCV ``impad`` padding as (left, top, right, bottom)."""
    if padding is None:
        return (0, 0, 0, 0)
    if isinstance(padding, int):
        return (padding, ) * 4
    if len(padding) == 2:
        return (padding[0], padding[1], padding[0], padding[1])
    return tuple(padding)


def _pad_values(pad_val) -> List[float]:
    return list(pad_val) if isinstance(pad_val, Sequence) else [pad_val]


def split_pipeline(pipeline: Sequence[Dict]) -> Tuple[List[Dict], List[Dict]]:
    """The deterministic head of a training pipeline and its view steps.

    Returns:
        tuple: (the steps before the first random one, the random steps in
        order: crops and horizontal flips). ``PackInputs`` must come last.

    Raises:
        ValueError: a step whose views are not a finite set this cache
            knows (continuous random transforms such as RandomResizedCrop,
            ColorJitter, RandAugment), or one after the view steps.
    """
    base, view_steps = [], []
    for position, step in enumerate(pipeline):
        name = type_name(step)
        if name == PACK:
            if position != len(pipeline) - 1:
                raise ConfigError(f'{PACK} must be the last step of the '
                                  'train pipeline to cache teacher CAMs.')
            continue
        if name in CROPS:
            if step.get('pad_if_needed') or step.get('padding_mode',
                                                     'constant') != 'constant':
                raise ConfigError(
                    f'{name} with pad_if_needed or a non-constant '
                    'padding_mode is not supported by the teacher-CAM cache:'
                    ' pad with a constant value.')
            view_steps.append(dict(step))
        elif name == FLIP:
            direction = step.get('direction', 'horizontal')
            if direction not in ('horizontal', ['horizontal']) or isinstance(
                    step.get('prob'), (list, tuple)):
                raise ConfigError(
                    f'{FLIP}(direction={direction!r}) is not supported by '
                    'the teacher-CAM cache: only horizontal flips with one '
                    'probability are.')
            view_steps.append(dict(step))
        elif name in DETERMINISTIC and not view_steps:
            base.append(dict(step))
        elif name in DETERMINISTIC:
            raise ConfigError(
                f'{name} comes after a random crop or flip: the '
                'teacher-CAM cache needs the deterministic steps first.')
        else:
            raise ConfigError(
                f'the train pipeline has {name}, which is random with '
                'infinitely many outcomes (or unknown to the cache): teacher '
                'CAMs can be cached only for pipelines of crops with padding '
                'and horizontal flips, so train with the online teacher.')
    return base, view_steps


def describe_views(view_steps: Sequence[Dict],
                   image_shape: Tuple[int, int]) -> Dict:
    """The manifest's ``views``: the crop offsets and flips the steps draw
    from an image of ``image_shape`` (H, W), and how to render them."""
    crop, flips, order = None, [False], []
    height, width = image_shape
    for step in view_steps:
        name = type_name(step)
        if name in CROPS:
            if crop is not None:
                raise ConfigError('the teacher-CAM cache supports one random '
                                  'crop per pipeline, this one has two.')
            size = step['crop_size']
            size = (size, size) if isinstance(size, int) else tuple(size)
            left, top, right, bottom = _padding(step.get('padding'))
            padded = (height + top + bottom, width + left + right)
            target = (min(size[0], padded[0]), min(size[1], padded[1]))
            crop = dict(
                size=list(target),
                padding=[left, top, right, bottom],
                pad_val=_pad_values(step.get('pad_val', 0)))
            offsets = (padded[0] - target[0] + 1, padded[1] - target[1] + 1)
            order.append(CROP_STEP)
        else:
            prob = step.get('prob')
            prob = 0.0 if prob is None else float(prob)
            flips = [
                False
            ] if prob <= 0 else [True] if prob >= 1 else [False, True]
            order.append(FLIP_STEP)
    if crop is None:
        offsets = (1, 1)
    return dict(
        image_shape=[height, width],
        crop=crop,
        offsets_h=offsets[0],
        offsets_w=offsets[1],
        flips=flips,
        order=order)


def render_views(images: torch.Tensor, views: Dict) -> torch.Tensor:
    """Every view of every image, as the pipeline would produce it.

    Args:
        images (Tensor): (B, C, H, W), the output of the pipeline's
            deterministic head (channels as in the image array).
        views (dict): see :func:`describe_views`.

    Returns:
        Tensor: (B, V, C, h, w) with V = :func:`num_views`, views in the
        order of :func:`.format.view_index`.
    """
    num_images, channels = images.shape[:2]
    crop = views['crop']
    flips = views['flips']
    flip_first = views['order'] == [FLIP_STEP, CROP_STEP]
    sources = [
        images.flip(-1) if flip and flip_first else images for flip in flips
    ]
    rendered = []
    for flip, source in zip(flips, sources):
        if crop is not None:
            left, top, right, bottom = crop['padding']
            height, width = source.shape[-2:]
            padded = source.new_empty(
                (num_images, channels, height + top + bottom,
                 width + left + right))
            pad_val = torch.tensor(crop['pad_val'], dtype=source.dtype)
            padded[:] = pad_val.view(-1, 1, 1).expand(channels, 1, 1)
            padded[:, :, top:top + height, left:left + width] = source
            crop_h, crop_w = crop['size']
            crops = [
                padded[:, :, y:y + crop_h, x:x + crop_w]
                for y in range(views['offsets_h'])
                for x in range(views['offsets_w'])
            ]
        else:
            crops = [source]
        if flip and not flip_first:
            crops = [view.flip(-1) for view in crops]
        rendered.extend(crops)
    stacked = torch.stack(rendered, dim=1)
    assert stacked.shape[1] == num_views(views)
    return stacked


def dataset_fingerprint(dataset) -> Dict:
    """``length`` and a ``sha256`` over every item's file path (or, for
    in-memory datasets such as CIFAR, its pixels) and label."""
    if not hasattr(dataset, 'get_data_info'):
        raise ConfigError(
            f'{type(dataset).__name__} is a dataset wrapper: the teacher-CAM '
            'cache indexes images by the sample_idx of a plain MMEngine '
            'BaseDataset, so use the dataset itself.')
    digest = hashlib.sha256()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        if 'img_path' in info:
            digest.update(str(info['img_path']).encode())
        else:
            digest.update(np.ascontiguousarray(info['img']).tobytes())
        digest.update(str(info.get('gt_label')).encode())
    return dict(
        type=type(dataset).__name__,
        length=len(dataset),
        sha256=digest.hexdigest())


def pipeline_records_views(pipeline: Sequence[Dict]) -> Optional[str]:
    """None if the train pipeline records what a cache lookup needs
    (:data:`.format.VIEW_META_KEYS`), else what to change."""
    names = [type_name(step) for step in pipeline]
    if RANDOM_CROP in names:
        return (f"the train pipeline's {RANDOM_CROP} does not record its "
                f"offset: use type='{VIEW_CROP}' (same arguments).")
    if names and names[-1] == PACK:
        kept = pipeline[-1].get('meta_keys', DEFAULT_META_KEYS)
        drawn = {
            SAMPLE_IDX_KEY: True,
            CROP_OFFSET_KEY: VIEW_CROP in names,
            FLIP_KEY: FLIP in names
        }
        needed = [
            key for key in VIEW_META_KEYS if drawn[key] and key not in kept
        ]
        if needed:
            return (f"the train pipeline's {PACK} drops {needed}: list them "
                    f'in its meta_keys (e.g. meta_keys={VIEW_META_KEYS}).')
    return None
