"""Run another OpenMMLab project's tool with mmcatkd imported first.

    python -m mmcatkd.run mmrazor::tools/train.py CONFIG [ARGS...]
    python -m mmcatkd.run mmpretrain::tools/test.py CONFIG CKPT [ARGS...]
    python -m mmcatkd.run path/to/any_tool.py [ARGS...]
    torchrun --nproc_per_node 2 -m mmcatkd.run mmrazor::tools/train.py \\
        CONFIG --launcher pytorch

runs the tool exactly as ``python TOOL ARGS...`` would, after ``import
mmcatkd`` (the workarounds of :mod:`mmcatkd.compat`, then the registration of
mmcatkd's components). ``PACKAGE::tools/NAME.py`` names a tool shipped in an
installed package's wheel (``site-packages/PACKAGE/.mim/tools/NAME.py``),
written as MMEngine writes configs of installed packages; a ``PACKAGE::``
path that resolves outside that tools folder is refused.

Why a wrapper: a config's ``custom_imports`` runs too late for two of the
workarounds. MMRazor 1.0.0's ``tools/train.py`` and ``tools/test.py`` import
MMRazor's quantization code (``register_all_modules``) before they read the
config, which fails on torch >= 2; and MMEngine resolves
``_base_ = 'mmpretrain::...'`` before ``custom_imports``, which fails where
setuptools >= 81 ships no ``pkg_resources``. The alternatives were weighed:
an import hook has to be installed as a ``.pth`` file that runs in every
Python process of the environment, which is more than ``import mmcatkd``
should change; a console script would be this module under another name
that exists only once the package is installed (not in a source checkout on
``PYTHONPATH``), with nothing gained.
"""
import importlib.util
import os.path as osp
import runpy
import sys
from typing import List, Optional

from .utils.errors import ConfigError

USAGE = ('usage: python -m mmcatkd.run TOOL [ARGS...], TOOL a script path '
         'or PACKAGE::tools/NAME.py (e.g. mmrazor::tools/train.py)')


def resolve_tool(tool: str) -> str:
    """The script path of ``tool``: a path, or ``PACKAGE::tools/...``
    inside the installed package's ``.mim/tools`` folder.

    A ``PACKAGE::`` path resolves (through ``..`` and symlinks) only inside
    that folder: ``mmrazor::../../mmpretrain/.mim/tools/x.py`` would run
    another package's tool under MMRazor's name, ``mmrazor::/etc/hostname``
    any file as Python.

    Raises:
        FileNotFoundError: no such script (one sentence saying what to give).
        ValueError: a ``PACKAGE::`` path outside the package's tools.
    """
    if '::' in tool:
        package, relative = tool.split('::', 1)
        spec = importlib.util.find_spec(package) if package else None
        if spec is None or spec.origin is None:
            raise FileNotFoundError(
                f'{tool}: no installed package {package!r}; give a script '
                'path or PACKAGE::tools/NAME.py of an installed package.')
        mim = osp.join(osp.dirname(spec.origin), '.mim')
        tools_dir = osp.realpath(osp.join(mim, 'tools'))
        path = osp.join(mim, relative)
        if osp.commonpath([tools_dir, osp.realpath(path)]) != tools_dir:
            raise ConfigError(
                f'{tool} is outside {package}\'s '
                f'tools folder ({tools_dir}); give '
                f'{package}::tools/NAME.py, or the path of a script to run '
                'it as it is.')
    else:
        path = tool
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{tool}: no script at {path}; give a script path or '
            'PACKAGE::tools/NAME.py of an installed package (e.g. '
            'mmrazor::tools/train.py).')
    return osp.abspath(path)


def main(argv: Optional[List[str]] = None) -> None:
    """Run ``argv[0]`` (see :func:`resolve_tool`) with ``argv[1:]``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE)
        sys.exit(0 if argv else 2)
    try:
        tool = resolve_tool(argv[0])
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'mmcatkd.run: error: {err}')
    sys.argv = [tool] + list(argv[1:])
    # `python TOOL` puts the tool's folder first on sys.path
    sys.path.insert(0, osp.dirname(tool))
    runpy.run_path(tool, run_name='__main__')


if __name__ == '__main__':
    main()
