"""Workarounds that make the OpenMMLab stack run on today's PyTorch and
setuptools (and one that spares MMEngine's repeated config formatting), one
module each.

``import mmcatkd`` calls :func:`apply` before anything imports MMRazor. Each
module's docstring says which upstream version it is for, the symptom
without it, and the detection that tells whether it is still needed (and
so when it can go); its ``apply()`` runs that detection and applies the
workaround only where it finds the problem. :data:`ACTIVE` records which
were applied, and ``python -m mmcatkd.compat`` prints :func:`report`. Each
has a test in ``tests/test_compat.py`` that fails without it.
"""
from types import ModuleType
from typing import Callable, Dict, Tuple

from . import (checkpoint_urls, config_text, cpu_ddp, hook_tracebacks,
               mmengine_checkpoint, mmrazor_quantization,
               pkg_resources_lookups)
from .mmcv_version import check_mmcv_version

#: the workaround modules, in the order :func:`apply` runs them (MMRazor's
#: quantization first: it must precede any import of MMRazor's models)
MODULES: Tuple[ModuleType, ...] = (
    mmrazor_quantization,
    mmengine_checkpoint,
    checkpoint_urls,
    pkg_resources_lookups,
    cpu_ddp,
    hook_tracebacks,
    config_text,
)


def _problem(module: ModuleType) -> str:
    """The first paragraph of ``module``'s docstring, on one line, without
    its full stop: the problem it works around and what it does."""
    first_paragraph = module.__doc__.strip().split('\n\n')[0]
    return ' '.join(first_paragraph.split()).rstrip('.')


#: (name, problem, apply) of each workaround; ``apply()`` detects the
#: problem and, where found, applies the workaround, returning whether it did
WORKAROUNDS: Tuple[Tuple[str, str, Callable[[], bool]], ...] = tuple(
    (module.NAME, _problem(module), module.apply) for module in MODULES)

#: name -> whether :func:`apply` found the problem and applied the workaround
ACTIVE: Dict[str, bool] = {}


def apply() -> None:
    """Check MMCV's version, then apply every workaround this environment
    needs, in order (idempotent)."""
    check_mmcv_version()
    for name, _, detect_and_apply in WORKAROUNDS:
        ACTIVE[name] = detect_and_apply()


def report() -> str:
    """One line per workaround: whether :func:`apply` applied it, and the
    problem it exists for (``python -m mmcatkd.compat`` prints this)."""
    import mmengine
    import torch
    versions = f'torch {torch.__version__}, mmengine {mmengine.__version__}'
    lines = [f'mmcatkd compatibility workarounds ({versions}):']
    for name, problem, _ in WORKAROUNDS:
        state = 'active' if ACTIVE[name] else 'not needed here'
        lines.append(f'  {name}: {state}. {problem}.')
    return '\n'.join(lines)
