"""``mmcatkd::`` config paths in MMEngine, as for OpenMMLab's own packages.

MMEngine 0.10.7 resolves ``_base_ = ['PACKAGE::FOLDER/CONFIG.py']``,
``mmengine.hub.get_config`` and MMRazor's ``cfg_path='PACKAGE::...'`` only
for the packages in its table ``mmengine.config.utils.MODULE2PACKAGE``
(alias ``PKG2PROJECT``) and has no way to register another; it reads the
files from ``PACKAGE/.mim/configs/``, which mmcatkd's ``setup.py`` fills
(copies in a wheel, links to the source tree for ``pip install -e``).

:func:`register_mmcatkd_configs`, called by ``import mmcatkd``, adds mmcatkd
to that table and has MMEngine's config lookups find mmcatkd in the folder
it was imported from. MMEngine's own ``get_installed_path`` answers
``site-packages/mmcatkd`` for an editable install, whose package is in the
source tree, and the folder of another copy than the imported one where a
source checkout on ``PYTHONPATH`` shadows an installed mmcatkd.

A ``_base_`` from a package is read in that package's registry scope: MMEngine
sets ``_scope_='PACKAGE'`` on its dicts. mmcatkd has no registries of its own
(its parts register in MMPretrain's and MMRazor's, and its configs name
their scopes with ``default_scope`` and ``_scope_``), so an ``mmcatkd::``
base is read as a local file is.

Can go when MMEngine lets a package register itself for ``PACKAGE::`` paths
and finds editable installs.
"""
import functools
import os.path as osp
import warnings
from typing import Callable

PACKAGE = 'mmcatkd'
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def mim_dir() -> str:
    """``mmcatkd/.mim``: configs/, tools/ and model-index.yml."""
    return osp.join(PACKAGE_DIR, '.mim')


def _finding_mmcatkd_here(
        get_installed_path: Callable[[str], str]) -> Callable[[str], str]:
    """``get_installed_path`` answering the imported mmcatkd's folder for
    ``'mmcatkd'`` (and failing with what to do when it has no ``.mim``)."""

    @functools.wraps(get_installed_path)
    def lookup(package: str) -> str:
        if package != PACKAGE:
            return get_installed_path(package)
        if not osp.isdir(mim_dir()):
            raise FileNotFoundError(
                f'mmcatkd in {PACKAGE_DIR} has no .mim folder (its configs, '
                'tools and model-index.yml): install mmcatkd with pip, in a '
                'source checkout `pip install -e .` (or `make install`), '
                'which links them there.')
        return PACKAGE_DIR

    lookup.finds_mmcatkd = True
    return lookup


def _reading_mmcatkd_bases_unscoped(get_cfg_path: Callable) -> Callable:
    """``Config._get_cfg_path`` giving ``mmcatkd::`` bases no scope."""

    @functools.wraps(get_cfg_path)
    def cfg_path_and_scope(cfg_path: str, filename: str):
        path, scope = get_cfg_path(cfg_path, filename)
        return path, None if scope == PACKAGE else scope

    cfg_path_and_scope.finds_mmcatkd = True
    return staticmethod(cfg_path_and_scope)


def register_mmcatkd_configs() -> None:
    """Let MMEngine resolve ``mmcatkd::FOLDER/CONFIG.py`` (idempotent)."""
    import mmengine.config.config as mmengine_config
    import mmengine.hub.hub as mmengine_hub
    from mmengine.config.utils import MODULE2PACKAGE

    MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    # setuptools 80 warns at each import of pkg_resources, which MMEngine's
    # lookups re-import (reload) every time; users cannot act on it
    warnings.filterwarnings(
        'ignore',
        message='pkg_resources is deprecated as an API',
        category=UserWarning)
    # the two modules that turn `PACKAGE::` paths into files
    for module in (mmengine_config, mmengine_hub):
        if not getattr(module.get_installed_path, 'finds_mmcatkd', False):
            module.get_installed_path = _finding_mmcatkd_here(
                module.get_installed_path)
    config = mmengine_config.Config
    if not getattr(config._get_cfg_path, 'finds_mmcatkd', False):
        config._get_cfg_path = _reading_mmcatkd_bases_unscoped(
            config._get_cfg_path)
