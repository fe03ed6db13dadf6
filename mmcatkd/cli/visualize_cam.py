"""Draw the class activation maps of a classifier's top-k classes.

CAT-KD (Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777)
transfers class activation maps; this tool shows them: Fig. 2 (top-k CAMs),
Fig. 6 (``--binarize``) and Fig. 5 (a teacher's and a student's rows).

    python tools/visualize_cam.py CONFIG CKPT a.png b.png --topk 4 \
        --out cams.png [--binarize] [--teacher-config T --teacher-ckpt TC]

CONFIG is a classifier config or a distillation config; for the latter the
student is drawn, and the teacher too when the checkpoint holds its weights
(CATDistill checkpoints do) and no --teacher-config is given. Images go
through the config's test pipeline (``LoadImageFromFile`` is added when the
pipeline lacks it). Checkpoints load through MMEngine's ``load_checkpoint``
(the safe, weights_only loader), see :mod:`mmcatkd.apis`.
"""
import argparse
import copy
import os
import os.path as osp
from typing import List, Optional, Sequence

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # see tools/demo.py

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import DATASETS  # noqa: E402

import mmcatkd  # noqa: E402,F401  (compat workarounds + registration, first)
from mmcatkd.apis import load_models  # noqa: E402
from mmcatkd.engine.cli import entry_point  # noqa: E402
from mmcatkd.utils.atomic_file import atomic_savefig  # noqa: E402
from mmcatkd.utils.errors import ConfigError  # noqa: E402
from mmcatkd.utils.mmengine_private import converts_bgr_to_rgb  # noqa: E402
from mmcatkd.utils.output_paths import check_output_file  # noqa: E402
from mmcatkd.visualization import topk_cam_figure  # noqa: E402


def class_names_of(cfg: Config, checkpoint: dict,
                   num_classes: int) -> List[str]:
    """Class names from the checkpoint's dataset_meta, else the config's
    test data set class, else '0'..'K-1'."""
    meta = checkpoint.get('meta') or {}
    names = (meta.get('dataset_meta') or {}).get('classes')
    if not names:
        dataset = (cfg.get('test_dataloader') or {}).get('dataset', {})
        while 'dataset' in dataset:  # wrappers
            dataset = dataset['dataset']
        names = dataset.get('classes')
        kind = dataset.get('type')
        if not names and isinstance(kind, str):
            init_default_scope('mmpretrain')
            dataset_class = DATASETS.get(kind)
            names = getattr(dataset_class, 'METAINFO', {}).get('classes')
    if not names or len(names) != num_classes:
        return [str(label) for label in range(num_classes)]
    return [str(name) for name in names]


def load_images(cfg: Config, paths: Sequence[str]) -> List[np.ndarray]:
    """Each image through the config's test pipeline, (H, W, 3) uint8."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset', {})
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    steps = copy.deepcopy(list(dataset.get('pipeline', [])))
    if not steps or 'LoadImageFromFile' not in str(steps[0].get('type')):
        steps.insert(0, dict(type='LoadImageFromFile'))
    init_default_scope('mmpretrain')
    pipeline = Compose(steps)
    images = []
    for path in paths:
        if osp.isdir(path):
            raise IsADirectoryError(f'image {path} is a directory: give '
                                    'image files.')
        if not osp.isfile(path):
            raise FileNotFoundError(f'image {path} does not exist.')
        packed = pipeline(dict(img_path=path))
        images.append(packed['inputs'].permute(1, 2, 0).numpy())
    return images


def visualize_cam(config: str,
                  checkpoint: str,
                  images: Sequence[str],
                  topk: int = 4,
                  binarize: bool = False,
                  teacher_config: Optional[str] = None,
                  teacher_checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  out: Optional[str] = None) -> Figure:
    """The figure of the command line, returned (and saved to ``out``)."""
    student, teacher, cfg, ckpt = load_models(config, checkpoint,
                                              teacher_config,
                                              teacher_checkpoint, device)
    num_classes = student.head.fc.out_features
    if isinstance(topk, bool) or not 1 <= topk <= num_classes:
        raise ConfigError(f'--topk {topk} is not between 1 and the '
                          f'{num_classes} classes of the model.')
    arrays = load_images(cfg, images)
    names = class_names_of(cfg, ckpt, num_classes)
    # LoadImageFromFile gives BGR; the data preprocessor converts for the
    # model when to_rgb is set, and the picture is flipped to draw it
    to_rgb = converts_bgr_to_rgb(student.data_preprocessor)
    display = [image[..., ::-1] if to_rgb else image for image in arrays]
    fig = topk_cam_figure(
        student,
        arrays,
        class_names=names,
        topk=topk,
        teacher=teacher,
        binarize=binarize,
        display_images=display,
        image_names=[osp.basename(path) for path in images])
    if out:
        atomic_savefig(fig, out, dpi=120)
    return fig


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw the CAMs of the top-k classes of each image.')
    parser.add_argument('config', help='classifier or distillation config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument(
        '--topk', type=int, default=4, help='classes per image (default 4)')
    parser.add_argument('--out', default='cams.png', help='PNG to write')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace the --out file if it exists (never an input)')
    parser.add_argument(
        '--binarize',
        action='store_true',
        help='show binarised CAMs (threshold mean |CAM|)')
    parser.add_argument('--teacher-config', help='a teacher classifier config')
    parser.add_argument('--teacher-ckpt', help='its checkpoint')
    parser.add_argument('--device', default='cpu', help='e.g. cuda:0')
    return parser.parse_args(argv)


@entry_point
def main(argv=None) -> None:
    args = parse_args(argv)
    check_output_file(
        args.out,
        dict(
            config=[args.config, args.teacher_config],
            checkpoint=[args.checkpoint, args.teacher_ckpt],
            image=args.images),
        force=args.force)
    visualize_cam(args.config, args.checkpoint, args.images, args.topk,
                  args.binarize, args.teacher_config, args.teacher_ckpt,
                  args.device, args.out)
    print(f'wrote {args.out}')
