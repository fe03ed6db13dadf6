"""MMEngine 0.10.7 finds installed packages (mmpretrain:: config paths) with
pkg_resources, which setuptools >= 81 does not ship; importlib.metadata
lookups replace them.

For: MMEngine 0.10.7 (``mmengine.utils.package_utils``: ``is_installed``,
``get_installed_path``, ``package2module``) with setuptools >= 81.

Symptom without it: ``_base_ = 'mmpretrain::...'`` in a config, or
``cfg_path='mmpretrain::...'`` for a teacher, fails with ``No module named
'pkg_resources'``.

Detection, and how to tell it can go: :func:`pkg_resources_missing` asks
whether ``pkg_resources`` can be imported. Where it can (setuptools < 81),
:func:`apply` does nothing; once MMEngine's lookups use ``importlib`` this
module can be deleted. The replacements are only in effect where mmcatkd is
imported before the config is parsed (mmcatkd's tools, ``python -m
mmcatkd.run``).
"""
import importlib.util
import os.path as osp
import sys
from importlib import metadata

NAME = 'pkg-resources-lookups'


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` without ``pkg_resources``."""
    try:
        metadata.distribution(package)
        return True
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def package2module(package: str) -> str:
    """``mmengine.utils.package_utils.package2module`` without
    ``pkg_resources``."""
    top_level = metadata.distribution(package).read_text('top_level.txt')
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return top_level.split('\n')[0]


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` without ``pkg_resources``."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package, which is '
                               'invalid for `get_install_path`')
        return osp.dirname(spec.origin)
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.origin is not None:
        return osp.dirname(spec.origin)
    location = str(dist.locate_file(''))
    possible_path = osp.join(location, package)
    if osp.exists(possible_path):
        return possible_path
    return osp.join(location, package2module(package))


def pkg_resources_missing() -> bool:
    """Whether ``pkg_resources`` (setuptools < 81) cannot be imported."""
    try:
        return importlib.util.find_spec('pkg_resources') is None
    except ValueError:  # sys.modules['pkg_resources'] is None: import blocked
        return True


def apply() -> bool:
    """Give every MMEngine module holding MMEngine's package lookups the
    ones above, where ``pkg_resources`` is missing; whether it did."""
    if not pkg_resources_missing():
        return False
    import mmengine.config.config  # noqa: F401  (binds the names below)
    import mmengine.hub.hub  # noqa: F401
    from mmengine.utils import package_utils

    replacements = {
        'is_installed': is_installed,
        'get_installed_path': get_installed_path,
        'package2module': package2module,
    }
    originals = {name: getattr(package_utils, name) for name in replacements}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith('mmengine') or module is None:
            continue
        for name, replacement in replacements.items():
            if getattr(module, name, None) is originals[name]:
                setattr(module, name, replacement)
    return True
