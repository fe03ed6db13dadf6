"""Pieces several layers share (tools, engine, models, datasets) and the
workarounds of :mod:`mmcatkd.compat` use; import nothing else of mmcatkd."""
from .checkpoint import (checkpoint_state_dict, state_dict_differences,
                         strip_data_parallel, strip_prefix)
from .config import load_config
from .modules import find_module
from .precision import at_least_fp32, fp32_region

__all__ = [
    'checkpoint_state_dict', 'state_dict_differences', 'strip_data_parallel',
    'strip_prefix', 'load_config', 'find_module', 'at_least_fp32',
    'fp32_region'
]
