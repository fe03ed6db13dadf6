"""Class activation maps of several classifiers, drawn over their inputs.

CAT-KD (Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777)
transfers class activation maps ``CAM_k = sum_c w_kc f_c`` (Eq. 2); this
module shows them, so that a teacher's and its students' maps for the same
images can be compared at a glance.
"""
from typing import List, Mapping, Optional, Sequence, Set, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from ..models.cams import logits_and_cams
from ..utils.errors import ConfigError

# Diverging, so positive evidence (red) and negative evidence (blue) for a
# class read differently; white is zero.
CAM_CMAP = 'RdBu_r'


def classifier_cams(model: nn.Module,
                    images: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
    """Softmax scores and full-resolution CAMs of one classifier.

    Args:
        model (nn.Module): an MMPretrain ``ImageClassifier`` whose head is
            ``CAMClsHead`` (neck=None) or ``LinearClsHead`` after a GAP neck;
            its ``data_preprocessor`` normalises the images.
        images (np.ndarray): (N, H, W, 3) uint8, as the dataset gives them.

    Returns:
        tuple[Tensor, Tensor]: scores (N, K) and CAMs (N, K, h, w) at the
        resolution of the backbone's last feature map.
    """
    inputs = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            batch = model.data_preprocessor(dict(inputs=inputs), False)
            logits, cams = logits_and_cams(model, batch['inputs'])
    finally:
        model.train(was_training)
    return logits.softmax(dim=1).cpu(), cams.cpu()


def shared_class_names(num_classes: Set[int], topk: int,
                       class_names: Optional[Sequence[str]]) -> List[str]:
    """The K class names (default '0'..'K-1') of models that all predict K
    classes (``num_classes``: their output counts), with 1 <= topk <= K."""
    if len(num_classes) != 1:
        raise ConfigError('all models must predict the same classes, got '
                          f'{sorted(num_classes)} outputs.')
    count = num_classes.pop()
    if not 1 <= topk <= count:
        raise ConfigError(f'topk must be in 1..{count}, got {topk}.')
    names = (
        list(class_names)
        if class_names is not None else [str(k) for k in range(count)])
    if len(names) != count:
        raise ConfigError(f'{len(names)} class names for {count} classes.')
    return names


def cam_figure(models: Mapping[str, nn.Module],
               images: np.ndarray,
               labels: Optional[Sequence[int]] = None,
               class_names: Optional[Sequence[str]] = None,
               topk: int = 2,
               title: Optional[str] = None) -> Figure:
    """A grid of each model's top-k CAMs over each image.

    One block of ``topk`` rows per image: the first column shows the image
    (and its true class), then one column per model with, in row r, the CAM
    of that model's r-th highest-scoring class over the image, titled with
    the class and its softmax score (red when the model's top class is
    wrong). The CAMs of one model and image are divided by their largest
    absolute value, so they share one colour scale in [-1, 1] and the
    weaker class looks weaker; CAMs are upsampled bilinearly to the image.

    Args:
        models (Mapping[str, nn.Module]): column name -> classifier (see
            :func:`classifier_cams`); all predict the same K classes.
        images (np.ndarray): (N, H, W, 3) uint8 images.
        labels (Sequence[int], optional): true classes, shown with the image.
        class_names (Sequence[str], optional): K names. Defaults to indices.
        topk (int): CAMs per model and image. Defaults to 2.
        title (str, optional): figure title.

    Returns:
        matplotlib.figure.Figure: save it with ``fig.savefig(path)``; no
        pyplot state is touched.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ConfigError('images must be an (N, H, W, 3) array, got shape '
                          f'{images.shape}.')
    if not models:
        raise ConfigError('cam_figure needs at least one model.')
    num_images, height, width = images.shape[:3]
    results = {
        name: classifier_cams(model, images)
        for name, model in models.items()
    }
    names = shared_class_names(
        {scores.shape[1]
         for scores, _ in results.values()}, topk, class_names)

    num_cols = 1 + len(models)
    fig = Figure(
        figsize=(1.7 * num_cols + 0.9, 1.9 * topk * num_images),
        layout='constrained')
    axes = fig.subplots(num_images * topk, num_cols, squeeze=False)
    grey = images.mean(axis=-1) / 255.0
    overlay = None
    for index in range(num_images):
        block = axes[index * topk:(index + 1) * topk]
        _draw_input(
            block[:, 0],
            grey[index],
            None if labels is None else names[int(labels[index])],
            header=index == 0)
        for col, (name, (scores, cams)) in enumerate(results.items(), 1):
            top_scores, top_classes = scores[index].topk(topk)
            maps = F.interpolate(
                cams[index, top_classes][None],
                size=(height, width),
                mode='bilinear',
                align_corners=False)[0]
            maps = maps / maps.abs().max().clamp_min(1e-12)
            wrong = (
                labels is not None
                and int(top_classes[0]) != int(labels[index]))
            for rank in range(topk):
                ax = block[rank, col]
                ax.imshow(grey[index], cmap='gray', vmin=0, vmax=1)
                overlay = ax.imshow(
                    maps[rank].numpy(),
                    cmap=CAM_CMAP,
                    vmin=-1,
                    vmax=1,
                    alpha=0.6)
                label = (f"'{names[int(top_classes[rank])]}' "
                         f'{float(top_scores[rank]):.2f}')
                if wrong and rank == 0:
                    label += ' (wrong)'
                _label_cell(ax, label,
                            'red' if wrong and rank == 0 else 'black')
                if index == 0 and rank == 0:
                    ax.set_title(name, fontsize=10, fontweight='bold')
    colorbar = fig.colorbar(overlay, ax=axes, shrink=0.5, aspect=30)
    colorbar.set_label('CAM / max |CAM| of the maps shown for that model '
                       'and image (red: evidence for the class)')
    if title:
        fig.suptitle(title)
    return fig


def _label_cell(ax, label: str, color: str = 'black') -> None:
    """Frameless image cell with ``label`` just above it.

    The label is the top x-axis label, so a column title set with
    ``set_title`` stays above it and constrained layout keeps both clear.
    """
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.xaxis.set_label_position('top')
    ax.set_xlabel(label, fontsize=9, color=color)


def _draw_input(column: Sequence, grey: np.ndarray, label: Optional[str],
                header: bool) -> None:
    """The image in the first row of its block, rank labels in the rest."""
    column[0].imshow(grey, cmap='gray', vmin=0, vmax=1)
    _label_cell(column[0],
                'class unknown' if label is None else f"true class '{label}'")
    column[0].set_ylabel('top-1 class', fontsize=9)
    if header:
        column[0].set_title('input', fontsize=10, fontweight='bold')
    for rank, ax in enumerate(column[1:], 2):
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            f'top-{rank} class \u2192',
            ha='center',
            va='center',
            fontsize=9,
            transform=ax.transAxes)
