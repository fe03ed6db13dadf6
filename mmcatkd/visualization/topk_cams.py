"""The CAMs of a classifier's top-k classes over each image (CAT-KD Fig. 2).

Guo, Yan, Li, Lin. "Class Attention Transfer Based Knowledge Distillation",
CVPR 2023, https://arxiv.org/abs/2304.12777: Fig. 2 shows the CAMs of the
top classes, Fig. 6 their binarised form, Fig. 5 a teacher's and a
student's CAMs of the same classes.
"""
from typing import Optional, Sequence

import numpy as np
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from ..models.losses.cat_loss import binarize_cams
from ..utils.errors import ConfigError
from .cam_figure import CAM_CMAP, classifier_cams, shared_class_names

BINARY_CMAP = 'Reds'


def topk_cam_figure(student: nn.Module,
                    images: Sequence[np.ndarray],
                    class_names: Optional[Sequence[str]] = None,
                    topk: int = 4,
                    teacher: Optional[nn.Module] = None,
                    binarize: bool = False,
                    display_images: Optional[Sequence[np.ndarray]] = None,
                    image_names: Optional[Sequence[str]] = None,
                    title: Optional[str] = None) -> Figure:
    """A grid of the top-k CAMs of each image, optionally teacher and student.

    One row per image (two with a teacher: teacher above student) and
    ``1 + topk`` columns: the image, then the CAMs of the top-k classes,
    upsampled bilinearly over the image and titled with the class name and
    the model's softmax score. The classes are the student's top-k, or the
    teacher's when a teacher is given, so both rows show the same classes.
    Maps are divided by the largest |CAM| among the k maps of that model and
    image (one colour scale, -1..1, red = evidence for the class). With
    ``binarize`` each map is shown as CATLoss's ``binarize`` makes it: 1
    where it exceeds the mean of its absolute values (at the CAM's own
    resolution, then upsampled without interpolation).

    Args:
        student (nn.Module): classifier with a CAMClsHead or GAP + linear
            head (see :func:`classifier_cams`).
        images (Sequence[np.ndarray]): (H, W, 3) uint8 arrays as the model's
            ``data_preprocessor`` expects them; sizes may differ.
        class_names (Sequence[str], optional): K names. Defaults to indices.
        topk (int): classes per image. Defaults to 4.
        teacher (nn.Module, optional): drawn above the student.
        binarize (bool): show binarised maps. Defaults to False.
        display_images (Sequence[np.ndarray], optional): RGB versions of
            ``images`` to draw (e.g. when the model takes BGR). Defaults to
            ``images``.
        image_names (Sequence[str], optional): shown under each image.
        title (str, optional): figure title.

    Returns:
        matplotlib.figure.Figure: no pyplot state is touched.
    """
    images = [np.asarray(image) for image in images]
    if not images or any(image.ndim != 3 or image.shape[-1] != 3
                         for image in images):
        raise ConfigError('images must be a non-empty list of (H, W, 3) '
                          'arrays.')
    display = images if display_images is None else [
        np.asarray(image) for image in display_images
    ]
    models = ([('teacher', teacher)] if teacher is not None else []) + [
        ('student', student)
    ]
    # per image: {role: (scores (K,), cams (K, h, w))}
    results = [{
        role: tuple(t[0] for t in classifier_cams(model, image[None]))
        for role, model in models
    } for image in images]
    names = shared_class_names(
        {
            scores.numel()
            for result in results
            for scores, _ in result.values()
        }, topk, class_names)

    rows_per_image = len(models)
    num_rows, num_cols = len(images) * rows_per_image, 1 + topk
    fig = Figure(
        figsize=(1.9 * num_cols + 1.0, 2.05 * num_rows + 0.4),
        layout='constrained')
    axes = fig.subplots(num_rows, num_cols, squeeze=False)
    overlay = None
    for index, (result, picture) in enumerate(zip(results, display)):
        height, width = picture.shape[:2]
        reference = result[models[0][0]][0]  # teacher's scores if any
        classes = reference.topk(topk).indices
        for offset, (role, _) in enumerate(models):
            row = axes[index * rows_per_image + offset]
            scores, cams = result[role]
            # 'input' above each image's first row, its name below the last
            _image_cell(
                row[0],
                picture,
                role if teacher is not None else None,
                None if image_names is None or offset < rows_per_image - 1 else
                image_names[index],
                first=offset == 0)
            maps = cams[classes][None].float()
            if binarize:
                maps = F.interpolate(
                    binarize_cams(maps), size=(height, width),
                    mode='nearest')[0]
            else:
                maps = F.interpolate(
                    maps,
                    size=(height, width),
                    mode='bilinear',
                    align_corners=False)[0]
                maps = maps / maps.abs().max().clamp_min(1e-12)
            for rank, label in enumerate(classes.tolist()):
                ax = row[1 + rank]
                ax.imshow(picture)
                overlay = ax.imshow(
                    maps[rank].numpy(),
                    cmap=BINARY_CMAP if binarize else CAM_CMAP,
                    vmin=0 if binarize else -1,
                    vmax=1,
                    alpha=0.55)
                _bare(ax)
                ax.set_title(
                    f"'{names[label]}' {float(scores[label]):.2f}", fontsize=9)
    colorbar = fig.colorbar(overlay, ax=axes, shrink=0.6, aspect=30)
    colorbar.set_label('binarised CAM (1: above mean |CAM|)' if binarize else
                       'CAM / max |CAM| over the row (red: evidence '
                       'for the class)')
    fig.suptitle(
        title or ('top-{} classes: {}CAMs, title = class and '
                  'softmax score{}').format(
                      topk, 'binarised ' if binarize else '',
                      '; teacher classes' if teacher is not None else ''),
        fontsize=10)
    return fig


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _image_cell(ax, picture: np.ndarray, role: Optional[str],
                name: Optional[str], first: bool) -> None:
    ax.imshow(picture)
    _bare(ax)
    if first:
        ax.set_title('input', fontsize=9)
    if role:
        ax.set_ylabel(role, fontsize=10, fontweight='bold')
    if name:
        ax.set_xlabel(name, fontsize=8)
