"""Each workaround of mmcatkd.compat, shown to be needed and to work."""
import json
import os
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

from mmcatkd import compat
from mmcatkd.compat import checkpoint_urls
from mmcatkd.compat import mmengine_checkpoint as checkpoint_files
from mmcatkd.compat import mmrazor_quantization, pkg_resources_lookups
from mmcatkd.utils.checkpoint import (CorruptCheckpointError,
                                      UnsafeCheckpointError,
                                      mmengine_checkpoint_globals,
                                      safe_torch_load)
from tests.conftest import run_python


@pytest.mark.slow
def test_mmrazor_distillation_imports_on_this_torch():
    """With mmcatkd imported first, MMRazor's models, engine, losses,
    distillers, recorders and SingleTeacherDistillValLoop import (MMRazor
    1.0.0 alone fails on this torch)."""
    result = run_python(
        'import mmcatkd, mmrazor.models, mmrazor.engine\n'
        'from mmrazor.engine import SingleTeacherDistillValLoop\n'
        'from mmrazor.models import (ConfigurableDistiller, '
        'SingleTeacherDistill, KLDivergence)\n'
        'from mmrazor.models.task_modules import RecorderManager\n'
        'print("ok")')
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == 'ok'


@pytest.mark.slow
@pytest.mark.skipif(
    not mmrazor_quantization.torch_lacks_quantization_api(),
    reason='this torch still has the API MMRazor 1.0.0 needs')
def test_mmrazor_alone_fails_on_this_torch():
    """The problem the workaround exists for: without mmcatkd, importing
    MMRazor's models fails on this torch."""
    result = run_python('import mmrazor.models')
    assert result.returncode != 0
    assert 'torch>=1.13' in result.stderr


@pytest.mark.slow
def test_quantization_use_raises_an_explaining_error():
    """Using a disabled MMRazor quantization part says why it is
    unavailable."""
    result = run_python(
        'import mmcatkd\n'
        'from mmrazor.structures.quantization import BackendConfigs\n'
        'BackendConfigs["native"]')
    assert result.returncode != 0
    assert 'quantization' in result.stderr and 'unavailable' in result.stderr


@pytest.mark.slow
def test_fix_still_applies_after_mmrazor_utils():
    """MMRazor's tools import mmrazor.utils before anything else; `import
    mmcatkd` after it (e.g. at the start of the tool's main()) still applies
    the fix and MMRazor's register_all_modules then works."""
    result = run_python('from mmrazor.utils import register_all_modules\n'
                        'import mmcatkd\n'
                        'register_all_modules(False)\n'
                        'from mmrazor.registry import MODELS\n'
                        'print(MODELS.get("CATDistill").__name__)')
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == 'CATDistill'


@pytest.mark.slow
@pytest.mark.skipif(
    not mmrazor_quantization.torch_lacks_quantization_api(),
    reason='this torch still has the API MMRazor 1.0.0 needs')
def test_too_late_after_a_failed_mmrazor_import():
    """After MMRazor's models failed to import (leaving half-registered
    modules), `import mmcatkd` refuses in one sentence that names the
    module and the way out, instead of importing MMRazor a second time."""
    result = run_python('try:\n'
                        '    import mmrazor.models\n'
                        'except ImportError:\n'
                        '    pass\n'
                        'import mmcatkd\n')
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith('ImportError: mmrazor.models')
    assert 'python -m mmcatkd.run' in last_line


@pytest.mark.slow
def test_mmrazor_packages_that_never_reach_quantization():
    """The guard's list is right: with the stand-in in place, importing
    every MMRazor subpackage not on it (mmrazor.utils included) loads no
    quantization code, so the guard may let them come first."""
    code = (
        'import importlib, importlib.util, json, pkgutil, sys\n'
        # compat alone: the package would import MMRazor's models
        'spec = importlib.util.spec_from_file_location(\n'
        '    "compat_alone", "mmcatkd/compat/mmrazor_quantization.py")\n'
        'compat = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(compat)\n'
        'compat.apply()\n'
        'import mmrazor\n'
        'reaching = compat.PACKAGES_REACHING_QUANTIZATION\n'
        'others = [f"mmrazor.{m.name}" for m in\n'
        '          pkgutil.iter_modules(mmrazor.__path__)\n'
        '          if f"mmrazor.{m.name}" not in reaching]\n'
        'for name in others:\n'
        '    importlib.import_module(name)\n'
        'print(json.dumps(dict(others=others,\n'
        '    reaching_loaded=compat.modules_reaching_quantization(),\n'
        '    quantization_loaded="mmrazor.structures.quantization" in\n'
        '                        sys.modules)))\n')
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert 'mmrazor.utils' in found['others']  # what MMRazor's tools import
    assert found['reaching_loaded'] == []
    assert not found['quantization_loaded']


@pytest.mark.slow
def test_compat_report_lists_each_workaround_and_its_state():
    """`python -m mmcatkd.compat` prints one line per workaround saying
    whether it is active here, as apply() recorded it, and why it exists."""
    result = run_python('import runpy\n'
                        'runpy.run_module("mmcatkd.compat", '
                        'run_name="__main__")')
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'RuntimeWarning' not in result.stderr
    lines = result.stdout.strip().splitlines()[1:]
    assert len(lines) == len(compat.WORKAROUNDS)
    for line, (name, problem, _) in zip(lines, compat.WORKAROUNDS):
        state = 'active' if compat.ACTIVE[name] else 'not needed here'
        assert line.strip() == f'{name}: {state}. {problem}.'
    # on this machine: torch without the API, no pkg_resources, no CUDA
    assert compat.ACTIVE['mmrazor-quantization'] == (
        mmrazor_quantization.torch_lacks_quantization_api())
    assert compat.ACTIVE['pkg-resources-lookups'] == (
        pkg_resources_lookups.pkg_resources_missing())
    assert compat.ACTIVE['cpu-distributed'] == (not torch.cuda.is_available())


def test_checkpoint_file_problem_is_detected_not_assumed(monkeypatch):
    """The checkpoint-file workaround is applied where torch.load's defaults
    refuse MMEngine checkpoints or run code from them, and not where they
    load them safely (e.g. once those globals are allowed)."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    assert checkpoint_files.torch_load_mishandles_mmengine_checkpoints()
    assert compat.ACTIVE['safe-checkpoint-files']
    schemes = dict(mmengine_checkpoint.CheckpointLoader._schemes)
    monkeypatch.setattr(mmengine_checkpoint.CheckpointLoader, '_schemes',
                        schemes)
    schemes[''] = mmengine_checkpoint.load_from_local
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        assert not (
            checkpoint_files.torch_load_mishandles_mmengine_checkpoints())
        assert checkpoint_files.apply() is False
    assert schemes[''] is mmengine_checkpoint.load_from_local
    # torch < 2.6 or this variable: the default runs code, so it is needed
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with torch.serialization.safe_globals(
            mmengine_checkpoint_globals()), pytest.warns(
                UserWarning, match='forcing weights_only=False'):
        assert checkpoint_files.torch_load_mishandles_mmengine_checkpoints()


def test_url_problem_is_detected_from_mmengines_loader(monkeypatch):
    """The URL workaround follows the weights_only default of the function
    MMEngine downloads with: applied for torch.hub's False, not for True."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    assert checkpoint_urls.mmengine_loads_urls_unsafely()

    def load_url_safe_by_default(url, weights_only=True):
        raise AssertionError('not called')

    monkeypatch.setattr(mmengine_checkpoint, 'load_url',
                        load_url_safe_by_default)
    assert not checkpoint_urls.mmengine_loads_urls_unsafely()


def test_mmrazor_registry_is_built_once():
    """One `mmrazor` registry holds MMRazor's and mmcatkd's components, so
    configs find both (a second import would split them)."""
    from mmrazor.registry import MODELS
    assert MODELS.get('SingleTeacherDistill') is not None
    assert MODELS.get('CATDistill') is not None


@pytest.mark.slow
def test_incompatible_mmcv_fails_with_one_sentence():
    """An mmcv outside MMRazor's range gives an ImportError naming the
    installed and the supported versions, not MMRazor's assertion."""
    result = run_python('import mmcv\nmmcv.__version__ = "2.2.0"\n'
                        'import mmcatkd')
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith('ImportError')
    assert '2.2.0' in last_line and '2.1.0' in last_line
    assert 'AssertionError' not in result.stderr


def _training_checkpoint(path: str) -> None:
    """A checkpoint holding what MMEngine's Runner saves beyond tensors."""
    hub = MessageHub('compat-test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('iter', 3)
    torch.save(
        dict(
            meta=dict(epoch=1, seed=np.int64(0)),
            state_dict=dict(w=torch.ones(2)),
            message_hub=hub.state_dict()), path)


def test_mmengine_training_checkpoint_loads_with_safe_loader(tmp_path):
    """A checkpoint with a HistoryBuffer and numpy values loads through
    MMEngine's loader, which stays on torch's weights_only loader."""
    path = str(tmp_path / 'epoch_1.pth')
    _training_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):  # the problem, without compat
        torch.load(path, weights_only=True)
    checkpoint = _load_checkpoint(path, map_location='cpu')
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.5)
    assert checkpoint['meta']['seed'] == 0


def _rename_in_pickle(path: str, old: bytes, new: bytes) -> None:
    """Rewrite the pickle inside a torch zip checkpoint (simulates a file
    written under another numpy)."""
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as dst:
        for info, data in members:
            if info.filename.endswith('data.pkl'):
                data = data.replace(old, new)
            dst.writestr(info, data)


def test_checkpoint_written_under_numpy1_loads(tmp_path):
    """numpy 1.x pickles name numpy.core.multiarray; those load too."""
    path = str(tmp_path / 'numpy1.pth')
    torch.save(dict(meta=dict(arr=np.arange(3.0), seed=np.int64(7))), path)
    if b'numpy._core' not in open(path, 'rb').read():
        pytest.skip('this numpy already writes numpy.core names')
    _rename_in_pickle(path, b'numpy._core.multiarray',
                      b'numpy.core.multiarray')
    assert b'numpy.core.multiarray' in open(path, 'rb').read()
    checkpoint = safe_torch_load(path)
    np.testing.assert_array_equal(checkpoint['meta']['arr'], [0., 1., 2.])
    assert checkpoint['meta']['seed'] == 7


class _RunsCode:
    """Pickles as a call of os.system, as a malicious checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_malicious_checkpoint_is_refused(tmp_path):
    """A pickle that would call os.system is refused as not a safe
    checkpoint, and the command never runs."""
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, payload=_RunsCode(marker)), path)
    with pytest.raises(UnsafeCheckpointError, match='not a safe checkpoint'):
        _load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_getattr_in_checkpoint_is_limited_to_history_buffer(tmp_path):
    """The getattr stand-in does not give a pickle general getattr."""
    path = str(tmp_path / 'getattr.pth')

    class _GetsAttr:
        # HistoryBuffer is an allowed global; its other attributes are not.

        def __reduce__(self):
            return getattr, (HistoryBuffer, '__subclasses__')

    torch.save(dict(payload=_GetsAttr()), path)
    with pytest.raises(UnsafeCheckpointError):
        safe_torch_load(path)


def test_truncated_checkpoint_is_reported_as_corrupt(tmp_path):
    """A truncated file gives an error naming it and saying it is
    corrupt."""
    path = str(tmp_path / 'truncated.pth')
    _training_checkpoint(path)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(
            CorruptCheckpointError, match='truncated.pth is corrupt'):
        _load_checkpoint(path, map_location='cpu')


PKG_CONFIG = '''
_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'
model = dict(head=dict(num_classes=7))
'''


@pytest.mark.slow
def test_mmpretrain_config_paths_work_without_pkg_resources(tmp_path):
    """`_base_ = 'mmpretrain::...'` and `cfg_path='mmpretrain::...'` resolve
    where pkg_resources cannot be imported (setuptools >= 81)."""
    config = tmp_path / 'uses_mmpretrain_base.py'
    config.write_text(PKG_CONFIG)
    code = (
        'import sys\n'
        'sys.modules["pkg_resources"] = None  # as on setuptools >= 81\n'
        'import mmcatkd\n'
        'from mmengine.config import Config\n'
        'from mmengine.hub import get_config\n'
        f'cfg = Config.fromfile({str(config)!r})\n'
        'print(cfg.model.backbone.depth, cfg.model.head.num_classes)\n'
        'hub_cfg = get_config("mmpretrain::resnet/resnet34_8xb32_in1k.py")\n'  # noqa: E501
        'print(hub_cfg.model.backbone.depth)\n')
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ['18', '7', '34']


@pytest.mark.slow
def test_without_the_lookup_workaround_mmpretrain_paths_fail(tmp_path):
    """The problem: MMEngine's own lookups need pkg_resources."""
    config = tmp_path / 'uses_mmpretrain_base.py'
    config.write_text(PKG_CONFIG)
    code = ('import sys\n'
            'sys.modules["pkg_resources"] = None\n'
            'from mmengine.config import Config\n'
            f'Config.fromfile({str(config)!r})\n')
    result = run_python(code)
    assert result.returncode != 0
    assert 'pkg_resources' in result.stderr


def test_url_checkpoints_load_through_the_safe_loader(tmp_path, monkeypatch):
    """Checkpoint URLs (MMEngine's http(s), torchvision:// and open-mmlab://
    schemes) are downloaded to torch.hub's cache and loaded with the safe
    loader: a malicious download is refused (MMEngine itself would load it
    with weights_only=False)."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    loader = mmengine_checkpoint.CheckpointLoader
    assert loader._get_checkpoint_loader(
        'https://example.org/teacher.pth') is (
            checkpoint_urls.load_from_http_safely)
    assert mmengine_checkpoint.load_from_http is (
        checkpoint_urls.load_from_http_safely)

    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    good = tmp_path / 'served' / 'good.pth'
    good.parent.mkdir()
    _training_checkpoint(str(good))
    checkpoint = checkpoint_urls.load_from_http_safely(
        good.as_uri(), progress=False)
    assert checkpoint['meta']['epoch'] == 1
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
            'good.pth').is_file()

    marker = tmp_path / 'pwned'
    evil = tmp_path / 'served' / 'evil.pth'
    torch.save(dict(payload=_RunsCode(marker)), str(evil))
    with pytest.raises(UnsafeCheckpointError):
        checkpoint_urls.load_from_http_safely(evil.as_uri(), progress=False)
    assert not marker.exists()


def test_offline_download_names_the_url_and_where_the_file_goes(
        tmp_path, monkeypatch):
    """Without network, a ``torchvision://`` teacher said only
    ``<urlopen error [Errno -2] Name or service not known>``: the sentence
    names the URL, says the network is unreachable and where to put the
    file so that it is read without network (torch.hub's cache)."""
    import socket
    from urllib.error import URLError

    from mmengine.runner.checkpoint import get_torchvision_models

    from mmcatkd.engine.user_errors import user_error_message
    from mmcatkd.utils import checkpoint_state_dict
    from mmcatkd.utils.errors import DownloadError

    def offline(url, dst, *args, **kwargs):
        raise URLError(socket.gaierror(-2, 'Name or service not known'))

    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    url = get_torchvision_models()['resnet34']
    cached = tmp_path / 'hub' / 'checkpoints' / osp.basename(url)
    with pytest.raises(DownloadError) as info:
        checkpoint_state_dict('torchvision://resnet34')
    assert user_error_message(info.value) == (
        f'could not download {url}: the network is unreachable from this '
        'machine ([Errno -2] Name or service not known); download it where '
        f"there is network and put the file at {cached} (torch.hub's "
        'checkpoint cache, read without network; TORCH_HOME moves it).')


def test_hook_type_error_keeps_its_traceback_and_type(monkeypatch):
    """MMEngine's call_hook raised ``TypeError(f'{e} in {hook}') from
    None``: a bug's file and line and a ConfigTypeError's type were lost.
    The original exception now leaves call_hook, with a note naming the
    hook; the problem is detected from call_hook's behaviour."""
    import types

    from mmengine.runner import Runner

    from mmcatkd.compat.hook_tracebacks import runner_hides_hook_tracebacks

    class ConfigTypeError(TypeError):  # as mmcatkd.utils.errors has one
        pass

    assert compat.ACTIVE['hook-tracebacks']
    error = ConfigTypeError('DistillLossWeightHook follows epochs.')

    class Checks:

        def before_train(self, runner):
            raise error

    with pytest.raises(ConfigTypeError) as info:
        Runner.call_hook(
            types.SimpleNamespace(_hooks=[Checks()]), 'before_train')
    assert info.value is error
    assert info.value.__notes__ == ['(in Checks.before_train)']
    frames = [entry.name for entry in info.traceback]
    assert frames[-2:] == ['call_hook', 'before_train']
    assert not runner_hides_hook_tracebacks()

    def wrapping_call_hook(self, fn_name, **kwargs):  # MMEngine 0.10.7's
        for hook in self._hooks:
            if hasattr(hook, fn_name):
                try:
                    getattr(hook, fn_name)(self, **kwargs)
                except TypeError as e:
                    raise TypeError(f'{e} in {hook}') from None

    monkeypatch.setattr(Runner, 'call_hook', wrapping_call_hook)
    assert runner_hides_hook_tracebacks()


def test_config_text_is_formatted_once_with_yapfs_result(monkeypatch):
    """MMEngine formats a config's text with yapf at every
    ``Config.pretty_text`` (the log, the dumped config, every checkpoint's
    meta): yapf now runs once per text and style, and the text is what yapf
    itself returns; the problem is detected from MMEngine's module."""
    from mmengine.config import Config
    from mmengine.config import config as config_module
    from yapf.yapflib.yapf_api import FormatCode

    from mmcatkd.compat import config_text

    assert compat.ACTIVE['config-text-cache']
    assert not config_text.formats_on_every_access()
    calls = []

    def counting_format_code(source, **kwargs):
        calls.append(source)
        return FormatCode(source, **kwargs)

    counting_format_code.__module__ = 'yapf.yapflib.yapf_api'
    monkeypatch.setattr(config_module, 'FormatCode', counting_format_code)
    assert config_text.formats_on_every_access()  # MMEngine 0.10.7's state
    cfg = Config(
        dict(
            model=dict(type='ImageClassifier', depth=18),
            work_dir='work_dirs/x'))
    texts = [cfg.pretty_text for _ in range(3)]
    assert len(calls) == 3  # unpatched: formatted at every access

    assert config_text.apply()
    assert [cfg.pretty_text for _ in range(3)] == texts
    assert len(calls) == 4  # once more, then from the cache
    cfg.work_dir = 'work_dirs/y'  # another text: formatted again
    assert "work_dir = 'work_dirs/y'" in cfg.pretty_text
    assert len(calls) == 5
