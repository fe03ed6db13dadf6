"""Fixtures shared by the reliability tests."""
import shutil

import pytest

from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import CATKD, train_in_process


@pytest.fixture(scope='session')
def trained_catkd(tmp_path_factory, image_folder):  # noqa: F811
    """A work dir after one epoch of catkd_tiny (epoch_1.pth and
    last_checkpoint), trained in this process. Copy it before changing it."""
    work_dir = str(tmp_path_factory.mktemp('trained_catkd'))
    train_in_process(CATKD, work_dir, image_folder, 'train_cfg.max_epochs=1')
    return work_dir


@pytest.fixture
def catkd_run(trained_catkd, tmp_path):
    """A private copy of :func:`trained_catkd`'s work dir."""
    work_dir = str(tmp_path / 'work_dir')
    shutil.copytree(trained_catkd, work_dir)
    # last_checkpoint holds an absolute path: point it at the copy.
    with open(f'{work_dir}/last_checkpoint', 'w') as f:
        f.write(f'{work_dir}/epoch_1.pth')
    return work_dir
