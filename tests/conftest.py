"""Shared fixtures: paths to the golden data and small generated image sets."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
GOLDEN = osp.join(osp.dirname(PROJECT_ROOT), 'shared', 'golden')
TEST_CONFIGS = osp.join(PROJECT_ROOT, 'tests', 'data', 'configs')

import mmcatkd  # noqa: E402,F401  (compat first, as every entry point does)


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (for import-order behaviour)."""
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=PROJECT_ROOT,
                          **kwargs)


def write_image_folder(root: str, num_classes: int = 4,
                       per_class: int = 6) -> str:
    """An ImageNet-style folder of 32x32 PNGs whose brightness is the class.

    Returns:
        str: ``root``.
    """
    from PIL import Image
    rng = np.random.default_rng(0)
    for label in range(num_classes):
        folder = osp.join(root, f'class{label}')
        os.makedirs(folder, exist_ok=True)
        for index in range(per_class):
            pixels = rng.random((32, 32, 3)) * 60 + label * 50
            Image.fromarray(pixels.astype(np.uint8)).save(
                osp.join(folder, f'{index}.png'))
    return root


@pytest.fixture(autouse=True)
def isolated_default_scope():
    """Start every test with no MMEngine default scope and undo the one it
    leaves behind (a Runner, a config build or a module-level fixture sets
    the global DefaultScope, e.g. to 'mmpretrain'), so registry lookups do
    not depend on which tests ran before."""
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture(scope='session')
def image_folder(tmp_path_factory) -> str:
    return write_image_folder(str(tmp_path_factory.mktemp('images')))


def data_root_options(root: str) -> list:
    """``--cfg-options`` pointing every dataloader of a test config at root."""
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
