"""Where the files beside the package are: ``configs/``, ``tools/``,
``docs/`` and ``model-index.yml``.

In a source checkout they sit beside the ``mmcatkd`` folder; an installed
wheel ships ``configs/``, ``tools/`` and ``model-index.yml`` in
``mmcatkd/.mim/`` (``setup.py``), as OpenMMLab's packages do. The tools'
code lives in :mod:`mmcatkd.cli` and finds them here, wherever it runs.
"""
import os.path as osp

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def project_root() -> str:
    """The folder holding ``configs/`` and ``tools/``: the source checkout
    (its ``setup.py`` beside the package), else the package's ``.mim``."""
    checkout = osp.dirname(PACKAGE_DIR)
    if osp.isfile(osp.join(checkout, 'setup.py')) and osp.isdir(
            osp.join(checkout, 'configs')):
        return checkout
    return osp.join(PACKAGE_DIR, '.mim')


def project_file(*parts: str) -> str:
    """``project_root()/parts...``, e.g. ``project_file('configs',
    'demo')``."""
    return osp.join(project_root(), *parts)
