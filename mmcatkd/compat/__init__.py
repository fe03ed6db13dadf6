"""Workarounds that make the OpenMMLab stack run on today's PyTorch/setuptools.

``import mmcatkd`` calls :func:`apply` before anything imports MMRazor. Each
workaround is applied only where the problem it works around is detected, and
each has a test in ``tests/test_compat.py`` that fails without it.

1. MMRazor 1.0.0 cannot be imported on torch >= 2.x: its quantization backend
   configs use ``torch.ao`` helpers that torch removed. Distillation never uses
   them, so the broken subpackage is replaced by a stand-in whose members raise
   an error explaining why (:func:`disable_mmrazor_quantization_backends`).
2. torch >= 2.6 loads checkpoints with ``weights_only=True``; MMEngine 0.10.7
   checkpoints hold a ``HistoryBuffer`` and numpy arrays, which that loader
   refuses. MMEngine's local checkpoint loader is replaced by one that keeps
   the safe loader and allows exactly those globals
   (:func:`install_safe_checkpoint_loader`).
3. setuptools >= 81 ships no ``pkg_resources``, which MMEngine 0.10.7 uses to
   find installed packages for ``mmpretrain::`` config paths
   (:func:`replace_pkg_resources_lookups`).
4. MMEngine 0.10.7's ``pytorch`` launcher assumes CUDA; on a machine without
   it, distributed training runs on gloo (:func:`enable_cpu_distributed_training`).
"""
import importlib.util
import os
import os.path as osp
import pickle
import sys
import types
import warnings
import zipfile
from importlib import metadata
from typing import Callable, List, Tuple, Union

import torch

# MMRazor 1.0.0 asserts this range at import time (mmrazor/__init__.py).
MMCV_MIN_VERSION = '2.0.0rc1'
MMCV_MAX_VERSION = '2.1.0'

_QUANT_BACKEND_MODULE = 'mmrazor.structures.quantization.backend_config'
_QUANT_BACKEND_NAMES = (
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


def check_mmcv_version() -> None:
    """Fail with one sentence when the installed MMCV is outside MMRazor's range.

    MMRazor 1.0 would otherwise stop the import with a bare ``AssertionError``.
    """
    # mmcv-lite warns at import that its compiled ops are missing; KD uses none.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    import mmcv
    from mmengine.utils import digit_version

    installed = digit_version(mmcv.__version__)
    if not (digit_version(MMCV_MIN_VERSION) <= installed
            <= digit_version(MMCV_MAX_VERSION)):
        raise ImportError(
            f'mmcatkd needs mmcv>={MMCV_MIN_VERSION},<={MMCV_MAX_VERSION} '
            f'(the range MMRazor 1.0 supports) but mmcv {mmcv.__version__} is '
            "installed: run `pip install 'mmcv-lite==2.1.0'` (distillation "
            'needs no compiled MMCV ops).')


def torch_lacks_mmrazor_quantization_api() -> bool:
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


def disable_mmrazor_quantization_backends() -> bool:
    """Replace MMRazor's quantization backend configs when torch broke them.

    Workaround for MMRazor 1.0.0 failing to import on torch >= 2.x
    (``ImportError: torch>=1.13 is not installed properly``). Must run before
    the first import of MMRazor: importing it, catching the failure and
    importing again would build a second ``mmrazor`` registry.

    Returns:
        bool: whether the stand-in was installed.
    """
    if not torch_lacks_mmrazor_quantization_api():
        return False
    if 'mmrazor' in sys.modules and _QUANT_BACKEND_MODULE not in sys.modules:
        raise ImportError(
            'mmrazor was imported before mmcatkd on a torch whose quantization '
            'API it cannot use: import mmcatkd first (or list it first in '
            'custom_imports).')
    stand_in = types.ModuleType(_QUANT_BACKEND_MODULE)
    stand_in.__doc__ = 'Disabled by mmcatkd.compat: see its docstring.'
    for name in _QUANT_BACKEND_NAMES:
        setattr(stand_in, name, _QuantizationUnavailable(name))
    stand_in.__all__ = list(_QUANT_BACKEND_NAMES)
    sys.modules.setdefault(_QUANT_BACKEND_MODULE, stand_in)
    return True


def _numpy_checkpoint_globals() -> List[Union[Callable, Tuple[Callable,
                                                                str]]]:
    """Numpy globals a pickled array or scalar needs, under numpy 1.x and 2.x.

    Checkpoints written under numpy 1.x name ``numpy.core.multiarray``; numpy
    2.x names ``numpy._core.multiarray``. Both names are allowed, bound to the
    running numpy's functions.
    """
    import numpy as np
    multiarray = getattr(np, '_core', np.core).multiarray
    allowed: list = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed.append((multiarray._reconstruct, f'{module}._reconstruct'))
        allowed.append((multiarray.scalar, f'{module}.scalar'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles these
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


# Registered by HistoryBuffer on its first instance, so listed here as well.
_HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def _history_buffer_statistic(owner, name: str):
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    A pickled ``HistoryBuffer`` stores its statistics methods, which pickle
    writes as ``getattr(HistoryBuffer, 'mean')``. Allowing the real
    ``getattr`` would let a pickle reach any attribute of any allowed object;
    this stand-in is bound to the name ``builtins.getattr`` instead.
    """
    from mmengine.logging import HistoryBuffer
    if ((owner is HistoryBuffer or isinstance(owner, HistoryBuffer))
            and name in _HISTORY_BUFFER_STATISTICS.union(
                HistoryBuffer._statistics_methods)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r:.40}, {name!r}): a checkpoint may only '
        'look up HistoryBuffer statistics methods')


def mmengine_checkpoint_globals() -> list:
    """The globals MMEngine training checkpoints contain beyond tensors."""
    from mmengine.logging import HistoryBuffer
    return [
        HistoryBuffer,
        (_history_buffer_statistic, 'builtins.getattr'),
        (_history_buffer_statistic, '__builtin__.getattr'),
    ] + _numpy_checkpoint_globals()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose pickle needs more than tensors and plain data."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that is truncated or not a checkpoint at all."""


def safe_torch_load(filename: str, map_location=None):
    """``torch.load`` with ``weights_only=True`` and readable failures.

    Allows exactly the globals of :func:`mmengine_checkpoint_globals`.

    Raises:
        FileNotFoundError: no file at ``filename``.
        UnsafeCheckpointError: the pickle would import or call anything else
            (e.g. ``os.system``).
        CorruptCheckpointError: the file is truncated or not a checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if 'weights_only' not in str(err) and 'global' not in str(err):
            raise CorruptCheckpointError(
                f'{filename} is corrupt or not a PyTorch checkpoint '
                f'({err}).') from err
        raise UnsafeCheckpointError(
            f'{filename} is not a safe checkpoint: its pickle needs code '
            'beyond tensors and plain data, which the weights_only loader '
            f'refuses ({str(err).splitlines()[0]}). Load only checkpoints you '
            'trust the origin of.') from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise CorruptCheckpointError(
            f'{filename} is corrupt or truncated and cannot be loaded '
            f'({type(err).__name__}: {str(err).splitlines()[0]}).') from err


def download_checkpoint(url: str, model_dir=None, progress=True) -> str:
    """Path of ``url`` in torch.hub's checkpoint cache, downloaded if absent.

    In a distributed run rank 0 downloads first and the others wait.
    """
    from urllib.parse import urlparse

    from mmengine.dist import barrier, get_dist_info
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached_file = osp.join(model_dir, osp.basename(urlparse(url).path))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached_file):
        os.makedirs(model_dir, exist_ok=True)
        torch.hub.download_url_to_file(url, cached_file, progress=progress)
    if world_size > 1:
        barrier()
    return cached_file


def load_from_http_safely(filename,
                          map_location=None,
                          model_dir=None,
                          progress=os.isatty(0)):
    """MMEngine's URL checkpoint loader, on :func:`safe_torch_load`.

    MMEngine 0.10.7 loads URLs through ``torch.hub.load_state_dict_from_url``,
    which by default turns the weights-only loader off: a download could
    run code.
    """
    return safe_torch_load(
        download_checkpoint(filename, model_dir, progress), map_location)


def install_safe_checkpoint_loader() -> None:
    """Make MMEngine load checkpoints with :func:`safe_torch_load`.

    Workaround for MMEngine 0.10.7 + torch >= 2.6: ``Runner.resume`` fails with
    ``Unsupported global: ...HistoryBuffer``. Registered as MMEngine's local
    checkpoint scheme, so ``load_checkpoint``, ``Runner.resume`` and
    ``Runner.load_checkpoint`` all use it. URLs (MMEngine's http(s) scheme,
    also used by its ``torchvision://`` and ``open-mmlab://`` schemes) get
    :func:`load_from_http_safely`, since MMEngine loads them unsafely.
    """
    from mmengine.runner import checkpoint as mmengine_checkpoint

    def load_from_local(filename, map_location):
        return safe_torch_load(filename, map_location)

    loader = mmengine_checkpoint.CheckpointLoader
    loader.register_scheme(prefixes='', loader=load_from_local, force=True)
    loader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_http_safely,
        force=True)
    # the torchvision:// and open-mmlab:// loaders call it by this name
    mmengine_checkpoint.load_from_http = load_from_http_safely


def _is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` without ``pkg_resources``."""
    try:
        metadata.distribution(package)
        return True
    except metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def _package2module(package: str) -> str:
    """``mmengine.utils.package_utils.package2module`` without pkg_resources."""
    top_level = metadata.distribution(package).read_text('top_level.txt')
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return top_level.split('\n')[0]


def _get_installed_path(package: str) -> str:
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
    return osp.join(location, _package2module(package))


def pkg_resources_missing() -> bool:
    """Whether ``pkg_resources`` (setuptools < 81) cannot be imported."""
    try:
        return importlib.util.find_spec('pkg_resources') is None
    except ValueError:  # sys.modules['pkg_resources'] is None: import blocked
        return True


def replace_pkg_resources_lookups() -> bool:
    """Give MMEngine package lookups that do not need ``pkg_resources``.

    Workaround for MMEngine 0.10.7 on setuptools >= 81: ``mmpretrain::``
    config paths fail with ``No module named 'pkg_resources'``. Every MMEngine
    module holding the original functions gets the replacement.

    Returns:
        bool: whether the lookups were replaced.
    """
    if not pkg_resources_missing():
        return False
    import mmengine.config.config  # noqa: F401  (binds the names below)
    import mmengine.hub.hub  # noqa: F401
    from mmengine.utils import package_utils

    replacements = {
        'is_installed': _is_installed,
        'get_installed_path': _get_installed_path,
        'package2module': _package2module,
    }
    originals = {
        name: getattr(package_utils, name)
        for name in replacements
    }
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith('mmengine') or module is None:
            continue
        for name, replacement in replacements.items():
            if getattr(module, name, None) is originals[name]:
                setattr(module, name, replacement)
    return True


def enable_cpu_distributed_training() -> bool:
    """Let MMEngine's ``pytorch`` launcher run on machines without CUDA.

    Workaround for MMEngine 0.10.7 assuming CUDA under ``--launcher pytorch``:
    ``init_dist`` calls ``torch.cuda.set_device`` and the Runner wraps the
    model in DDP with ``device_ids=[LOCAL_RANK]``, both of which fail on CPU.
    Without CUDA, the process group is started on gloo (NCCL needs CUDA) and
    DDP gets ``device_ids=None``, as PyTorch requires for CPU modules.

    Returns:
        bool: whether the CPU path was installed (no CUDA device).
    """
    if torch.cuda.is_available():
        return False
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    def init_dist_pytorch_cpu(backend, init_backend='torch', **kwargs):
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend!r} needs CUDA.')
        torch_dist.init_process_group(
            backend='gloo' if backend == 'nccl' else backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch_cpu

    ddp_init = MMDistributedDataParallel.__init__
    if not getattr(ddp_init, '_mmcatkd_cpu', False):

        def ddp_init_cpu(self, module, *args, **kwargs):
            kwargs['device_ids'] = None
            ddp_init(self, module, *args, **kwargs)

        ddp_init_cpu._mmcatkd_cpu = True
        MMDistributedDataParallel.__init__ = ddp_init_cpu
    return True


def apply() -> None:
    """Apply every workaround this environment needs (idempotent)."""
    check_mmcv_version()
    disable_mmrazor_quantization_backends()
    install_safe_checkpoint_loader()
    replace_pkg_resources_lookups()
    enable_cpu_distributed_training()
