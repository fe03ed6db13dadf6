"""Workarounds that make the OpenMMLab stack run on today's PyTorch/setuptools.

``import mmcatkd`` calls :func:`apply` before anything imports MMRazor. Each
workaround (:data:`WORKAROUNDS`) first detects its problem and is applied
only where it finds it; :data:`ACTIVE` records which were, and
``python -m mmcatkd.compat`` prints them with their reasons. Each has a test
in ``tests/test_compat.py`` that fails without it.

1. ``mmrazor-quantization``: MMRazor 1.0.0 cannot be imported on torch >= 2.x:
   its quantization backend configs use ``torch.ao`` helpers that torch
   removed. Distillation never uses them, so the broken subpackage is
   replaced by a stand-in whose members raise an error explaining why
   (:func:`disable_mmrazor_quantization_backends`).
2. ``safe-checkpoint-files``: MMEngine 0.10.7 loads files with
   ``torch.load``'s defaults: on torch >= 2.6 the weights-only loader, which
   refuses the ``HistoryBuffer`` and numpy arrays of MMEngine's own
   checkpoints; before, the full unpickler, which runs code from the file.
   MMEngine's local loader becomes :func:`safe_torch_load`, the safe loader
   allowing exactly those globals (:func:`install_safe_checkpoint_loader`).
3. ``safe-checkpoint-urls``: MMEngine 0.10.7 loads URLs with the
   unsafe loader (``weights_only`` off); they are downloaded and loaded by
   :func:`safe_torch_load` (:func:`install_safe_url_loader`).
4. ``pkg-resources-lookups``: setuptools >= 81 ships no ``pkg_resources``,
   which MMEngine 0.10.7 uses to find installed packages for
   ``mmpretrain::`` config paths (:func:`replace_pkg_resources_lookups`).
5. ``cpu-distributed``: MMEngine 0.10.7's ``pytorch`` launcher assumes CUDA;
   without it, distributed training runs on gloo
   (:func:`enable_cpu_distributed_training`).

Beside these, :func:`check_mmcv_version` stops an MMCV outside MMRazor's
range with one sentence and silences mmcv-lite's warning about its missing
compiled ops.
"""
import importlib.util
import inspect
import io
import os
import os.path as osp
import pickle
import sys
import types
import warnings
import zipfile
from importlib import metadata
from typing import Callable, Dict, List, Tuple, Union

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


# MMRazor 1.0.0's subpackages that import its quantization backend configs
# (through mmrazor.structures). The rest (mmrazor.utils, .registry, .datasets,
# .testing, .visualization) never do, so MMRazor's tools may import them
# before mmcatkd and the stand-in can still be installed.
_MMRAZOR_PACKAGES_REACHING_QUANTIZATION = (
    'mmrazor.structures', 'mmrazor.models', 'mmrazor.engine',
    'mmrazor.implementations')


def mmrazor_modules_reaching_quantization() -> List[str]:
    """Loaded MMRazor modules of the packages that import the quantization
    backend configs: left behind by an import of them that failed (or is
    under way), after which the stand-in would come too late."""
    return sorted(
        name for name in sys.modules
        if '.'.join(name.split('.')[:2]) in
        _MMRAZOR_PACKAGES_REACHING_QUANTIZATION
        and name != _QUANT_BACKEND_MODULE)  # the stand-in


def disable_mmrazor_quantization_backends() -> bool:
    """Replace MMRazor's quantization backend configs when torch broke them.

    Workaround for MMRazor 1.0.0 failing to import on torch >= 2.x
    (``ImportError: torch>=1.13 is not installed properly``). Must run before
    MMRazor first imports its quantization code (through
    ``mmrazor.structures``); MMRazor's tools import ``mmrazor.utils`` before
    that, which is fine. A failed import of MMRazor's models leaves
    half-registered modules behind, so after one this raises instead.

    Returns:
        bool: whether the stand-in was installed.
    """
    if not torch_lacks_mmrazor_quantization_api():
        return False
    if _QUANT_BACKEND_MODULE in sys.modules:  # the stand-in, already there
        return True
    too_late = mmrazor_modules_reaching_quantization()
    if too_late:
        raise ImportError(
            f'{too_late[0]} was imported before mmcatkd and pulled in MMRazor '
            'quantization code this torch cannot run: import mmcatkd before '
            'MMRazor, e.g. run the tool as `python -m mmcatkd.run TOOL.py '
            'ARGS...`.')
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


def _loader_reason(err: Exception) -> str:
    """The reason in a ``weights_only`` loader error, in one sentence.

    PyTorch wraps it in advice to retry with the unsafe loader, which
    mmcatkd never repeats: only the ``WeightsUnpickler error`` itself is
    kept (e.g. ``Unsupported global: GLOBAL posix.system ...``).
    """
    lines = [line.strip() for line in str(err).splitlines()]
    for index, line in enumerate(lines):
        if 'WeightsUnpickler error:' in line:
            rest = line.split('WeightsUnpickler error:', 1)[1].strip()
            following = [text for text in lines[index + 1:] if text]
            reason = rest or (following[0] if following else '')
            break
    else:
        reason = next((line for line in lines if line and not line.startswith(
            ('Weights only load failed', 'Check the documentation'))), '')
    return reason.split('. ')[0].rstrip('.') or type(err).__name__


def safe_torch_load(filename: str, map_location=None):
    """``torch.load`` with ``weights_only=True`` and readable failures.

    Allows exactly the globals of :func:`mmengine_checkpoint_globals`.

    Raises:
        FileNotFoundError: no file at ``filename``.
        IsADirectoryError: ``filename`` is a directory.
        UnsafeCheckpointError: the pickle would import or call anything else
            (e.g. ``os.system``).
        CorruptCheckpointError: the file is empty, truncated or not a
            checkpoint.
    """
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        raise IsADirectoryError(
            f'{filename} is a directory, not a checkpoint file: give the '
            '.pth file in it.')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CorruptCheckpointError(
            f'{filename} is empty (0 bytes): writing it was interrupted or '
            'failed; use an earlier checkpoint.')
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = _loader_reason(err)
        # A refused import or call ('Unsupported global', our getattr
        # guard) is unsafe; anything else (an unknown opcode) is corruption.
        if not any(word in reason.lower() for word in ('global', 'refusing')):
            raise CorruptCheckpointError(
                f'{filename} is corrupt or not a PyTorch checkpoint (the '
                f'weights_only loader read: {reason}).') from err
        raise UnsafeCheckpointError(
            f'{filename} is not a safe checkpoint: its pickle needs code '
            'beyond tensors and plain data, which the weights_only loader '
            f'refuses ({reason}). Load only checkpoints you trust the origin '
            'of.') from err
    except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise CorruptCheckpointError(
            f'{filename} is corrupt or truncated and cannot be loaded '
            f'({type(err).__name__}: {_loader_reason(err)}).') from err
    except Exception as err:
        # torch.load's legacy path on bytes that are neither a zip archive
        # nor a pickle (a text file: KeyError on its first byte, ...).
        raise CorruptCheckpointError(
            f'{filename} is not a PyTorch checkpoint (neither a zip archive '
            f'nor a pickle; {type(err).__name__}: {err}): check the '
            'path.') from err


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


class _CallsLen:
    """Pickles as a call of ``len``: harmless, but code a safe loader refuses."""

    def __reduce__(self):
        return len, ((), )


def _default_torch_load_accepts(obj) -> bool:
    """Whether ``torch.load`` with its defaults, as MMEngine 0.10.7 calls it,
    loads ``obj`` back from its saved bytes."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, map_location='cpu')
    except pickle.UnpicklingError:
        return False
    return True


def torch_load_mishandles_mmengine_checkpoints() -> bool:
    """Whether ``torch.load``'s defaults refuse MMEngine's own training
    checkpoints (the weights-only default of torch >= 2.6 without MMEngine's
    ``HistoryBuffer`` allowed) or run code named in a checkpoint (the
    default of torch < 2.6, or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``)."""
    from mmengine.logging import HistoryBuffer
    logged_loss = HistoryBuffer()  # as a checkpoint's message hub holds it
    logged_loss.update(0.5)
    return (not _default_torch_load_accepts(logged_loss)
            or _default_torch_load_accepts(_CallsLen()))


def install_safe_checkpoint_loader() -> bool:
    """Make MMEngine load checkpoint files with :func:`safe_torch_load`.

    Workaround for MMEngine 0.10.7 loading files with ``torch.load``'s
    defaults, detected by :func:`torch_load_mishandles_mmengine_checkpoints`
    (on torch >= 2.6 ``Runner.resume`` fails with ``Unsupported global:
    ...HistoryBuffer``). Registered as MMEngine's local checkpoint scheme, so
    ``load_checkpoint``, ``Runner.resume`` and ``Runner.load_checkpoint`` all
    use it.

    Returns:
        bool: whether the loader was installed.
    """
    if not torch_load_mishandles_mmengine_checkpoints():
        return False
    from mmengine.runner import checkpoint as mmengine_checkpoint

    def load_from_local(filename, map_location):
        return safe_torch_load(filename, map_location)

    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    return True


def mmengine_loads_urls_unsafely() -> bool:
    """Whether MMEngine downloads checkpoint URLs into a loader that runs
    code from the pickle (``torch.hub.load_state_dict_from_url`` defaults to
    ``weights_only`` off; MMEngine 0.10.7 passes nothing)."""
    from mmengine.runner.checkpoint import load_url
    weights_only = inspect.signature(load_url).parameters.get('weights_only')
    return weights_only is None or weights_only.default is not True


def install_safe_url_loader() -> bool:
    """Make MMEngine load checkpoint URLs with :func:`load_from_http_safely`.

    Covers MMEngine's http(s) scheme and its ``torchvision://`` and
    ``open-mmlab://`` schemes, which call ``load_from_http`` by name.
    Applied where :func:`mmengine_loads_urls_unsafely`.

    Returns:
        bool: whether the loader was installed.
    """
    if not mmengine_loads_urls_unsafely():
        return False
    from mmengine.runner import checkpoint as mmengine_checkpoint
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_http_safely,
        force=True)
    mmengine_checkpoint.load_from_http = load_from_http_safely
    return True


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


# name, the problem it works around, the function that detects the problem
# and, where found, applies the workaround (returning whether it did).
WORKAROUNDS: Tuple[Tuple[str, str, Callable[[], bool]], ...] = (
    ('mmrazor-quantization',
     'MMRazor 1.0.0 imports torch.ao quantization helpers that torch >= 2 '
     'removed; its quantization backend configs become stand-ins that '
     'raise when used (distillation never uses them)',
     disable_mmrazor_quantization_backends),
    ('safe-checkpoint-files',
     "MMEngine 0.10.7 loads checkpoint files with torch.load's defaults, "
     "which refuse MMEngine's own checkpoints (torch >= 2.6) or run code "
     'from the file (torch < 2.6); they go through safe_torch_load',
     install_safe_checkpoint_loader),
    ('safe-checkpoint-urls',
     'MMEngine 0.10.7 loads checkpoint URLs with weights_only off, which '
     'runs code from the download; they go through safe_torch_load',
     install_safe_url_loader),
    ('pkg-resources-lookups',
     'MMEngine 0.10.7 finds installed packages (mmpretrain:: config paths) '
     'with pkg_resources, which setuptools >= 81 does not ship; '
     'importlib.metadata lookups replace them',
     replace_pkg_resources_lookups),
    ('cpu-distributed',
     "MMEngine 0.10.7's pytorch launcher assumes CUDA; without it the "
     'process group starts on gloo and DDP gets device_ids=None',
     enable_cpu_distributed_training),
)

# name -> whether apply() found the problem and applied the workaround
ACTIVE: Dict[str, bool] = {}


def apply() -> None:
    """Apply every workaround this environment needs (idempotent)."""
    check_mmcv_version()
    for name, _, detect_and_apply in WORKAROUNDS:
        ACTIVE[name] = detect_and_apply()


def report() -> str:
    """One line per workaround: whether :func:`apply` applied it, and why
    it exists (``python -m mmcatkd.compat`` prints this)."""
    import mmengine
    versions = f'torch {torch.__version__}, mmengine {mmengine.__version__}'
    lines = [f'mmcatkd compatibility workarounds ({versions}):']
    for name, problem, _ in WORKAROUNDS:
        state = 'active' if ACTIVE[name] else 'not needed here'
        lines.append(f'  {name}: {state}. {problem}.')
    return '\n'.join(lines)
