"""mmcatkd: Class Attention Transfer knowledge distillation for OpenMMLab.

Importing the package applies the compatibility workarounds of
:mod:`mmcatkd.compat` (before anything imports MMRazor), each only where
its problem is detected (``python -m mmcatkd.compat`` lists them), and
registers every component in the MMPretrain / MMRazor registries that
configs look in. ``python -m mmcatkd.run TOOL ARGS...`` runs another
OpenMMLab project's tool with mmcatkd imported first. Once imported,
MMEngine resolves ``mmcatkd::FOLDER/CONFIG.py`` config paths
(:mod:`mmcatkd.compat.mmengine_packages`).
"""
from . import compat
from .compat.mmengine_packages import register_mmcatkd_configs

compat.apply()
register_mmcatkd_configs()

from . import cam_cache  # noqa: E402,F401
from . import datasets  # noqa: E402,F401
from . import engine  # noqa: E402,F401
from . import evaluation  # noqa: E402,F401
from . import models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'compat']
