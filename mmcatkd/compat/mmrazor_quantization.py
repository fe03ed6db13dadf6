"""MMRazor 1.0.0 imports torch.ao quantization helpers that torch >= 2
removed; its quantization backend configs become stand-ins that raise when
used (distillation never uses them).

For: MMRazor 1.0.0 (its ``mmrazor.structures.quantization.backend_config``)
on torch >= 2.x, where ``torch.ao.quantization.fuser_method_mappings`` has
no ``reverse_sequential_wrapper2``.

Symptom without it: ``import mmrazor.models`` (and so every distillation
config) fails with ``ImportError: torch>=1.13 is not installed properly``.

Detection, and how to tell it can go: :func:`torch_lacks_quantization_api`
asks torch for the helper. Where it is False on every torch mmcatkd
supports (or an MMRazor release no longer imports it), :func:`apply` does
nothing and this module can be deleted.

It must run before MMRazor first imports its quantization code (through
``mmrazor.structures``). MMRazor's tools import ``mmrazor.utils`` before
that, which is fine; a failed import of MMRazor's models leaves
half-registered modules behind, so after one :func:`apply` raises instead.
This module imports nothing of mmcatkd, so a test can load it alone.
"""
import sys
import types
from typing import List

import torch

NAME = 'mmrazor-quantization'

BACKEND_MODULE = 'mmrazor.structures.quantization.backend_config'
BACKEND_NAMES = (
    'BackendConfigs',
    'get_academic_backend_config',
    'get_academic_backend_config_dict',
    'get_native_backend_config',
    'get_native_backend_config_dict',
    'get_openvino_backend_config',
    'get_openvino_backend_config_dict',
    'get_tensorrt_backend_config',
    'get_tensorrt_backend_config_dict',
)

#: MMRazor 1.0.0's subpackages that import its quantization backend configs
#: (through mmrazor.structures). The rest (mmrazor.utils, .registry,
#: .datasets, .testing, .visualization) never do, so MMRazor's tools may
#: import them before mmcatkd and the stand-in can still be installed.
PACKAGES_REACHING_QUANTIZATION = ('mmrazor.structures', 'mmrazor.models',
                                  'mmrazor.engine', 'mmrazor.implementations')


def torch_lacks_quantization_api() -> bool:
    """Whether torch lacks the ``torch.ao`` helpers MMRazor 1.0.0 imports."""
    try:
        from torch.ao.quantization import fuser_method_mappings
    except ImportError:
        return True
    return not hasattr(fuser_method_mappings, 'reverse_sequential_wrapper2')


class _QuantizationUnavailable:
    """Stands in for a member of MMRazor's quantization backend configs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(
            f'mmrazor quantization ({self._name}) is unavailable: MMRazor '
            f'1.0.0 needs torch.ao helpers that torch {torch.__version__} no '
            'longer has, so mmcatkd disabled MMRazor quantization at import '
            '(distillation is unaffected).')

    __call__ = _refuse
    __getitem__ = _refuse

    def __getattr__(self, attr: str):
        if attr.startswith('__'):  # keep copy/pickle/introspection working
            raise AttributeError(attr)
        self._refuse()


def modules_reaching_quantization() -> List[str]:
    """Loaded MMRazor modules of the packages that import the quantization
    backend configs: left behind by an import of them that failed (or is
    under way), after which the stand-in would come too late."""
    return sorted(
        name for name in sys.modules
        if '.'.join(name.split('.')[:2]) in PACKAGES_REACHING_QUANTIZATION
        and name != BACKEND_MODULE)  # the stand-in


def apply() -> bool:
    """Replace MMRazor's quantization backend configs where torch broke
    them; whether the stand-in is installed."""
    if not torch_lacks_quantization_api():
        return False
    if BACKEND_MODULE in sys.modules:  # the stand-in, already there
        return True
    too_late = modules_reaching_quantization()
    if too_late:
        raise ImportError(
            f'{too_late[0]} was imported before mmcatkd and pulled in MMRazor '
            'quantization code this torch cannot run: import mmcatkd before '
            'MMRazor, e.g. run the tool as `python -m mmcatkd.run TOOL.py '
            'ARGS...`.')
    stand_in = types.ModuleType(BACKEND_MODULE)
    stand_in.__doc__ = f'Disabled by {__name__}: see its docstring.'
    for name in BACKEND_NAMES:
        setattr(stand_in, name, _QuantizationUnavailable(name))
    stand_in.__all__ = list(BACKEND_NAMES)
    sys.modules.setdefault(BACKEND_MODULE, stand_in)
    return True
