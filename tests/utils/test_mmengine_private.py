"""mmcatkd reaches MMEngine's private API only through
``mmcatkd/utils/mmengine_private.py``, and that module still means what it
says on the installed MMEngine: the version is one it was written for,
every private name it uses exists, and each of its doors does, on real
MMEngine objects, what its docstring promises."""
import ast
import functools
import glob
import importlib
import inspect
import os.path as osp
from types import SimpleNamespace

import mmengine
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import CheckpointHook, EMAHook
from mmengine.model import BaseModule, ImgDataPreprocessor
from mmengine.model.weight_init import BaseInit
from mmengine.optim.scheduler import ConstantLR
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.runner import Runner
from mmengine.utils import digit_version

from mmcatkd.utils import mmengine_private as private
from tests.conftest import PROJECT_ROOT

ADAPTER = 'mmcatkd/utils/mmengine_private.py'


def test_installed_mmengine_is_a_version_the_adapter_was_written_for():
    first, end = private.WRITTEN_FOR
    version = digit_version(mmengine.__version__)
    assert digit_version(first) <= version < digit_version(end), (
        f'MMEngine {mmengine.__version__} is outside [{first}, {end}), the '
        f'versions {ADAPTER} was checked against: re-check each private '
        'name it uses on this version, then widen WRITTEN_FOR there.')


def test_the_private_names_the_adapter_uses_exist():
    step_save = inspect.signature(CheckpointHook._save_checkpoint_with_step)
    assert list(step_save.parameters) == ['self', 'runner', 'step', 'meta']
    assert 'self._save_checkpoint_with_step(' in inspect.getsource(
        CheckpointHook._save_checkpoint)
    runner_init = inspect.getsource(Runner.__init__)
    assert 'self._load_from = load_from' in runner_init
    assert 'self._resume = resume' in runner_init
    assert callable(EMAHook._swap_ema_parameters)
    for name in ('_get_cfg_path', '_get_base_files', '_is_lazy_import'):
        assert callable(getattr(Config, name)), name


def test_step_checkpoint_hook_saves_each_checkpoint_through_save_step():
    saved = []

    class Recording(private.StepCheckpointHook):

        def save_step(self, runner, step, meta):
            saved.append((step, meta))

    runner = SimpleNamespace(
        epoch=2,
        iter=30,
        train_loop=SimpleNamespace(max_epochs=10),
        logger=SimpleNamespace(info=lambda message: None))
    Recording(interval=1, by_epoch=True).after_train_epoch(runner)
    assert saved == [(3, dict(epoch=3, iter=30))]


def test_param_scheduler_base_sets_the_values_of_current_values():

    class Halving(LRSchedulerMixin, private.ParamSchedulerBase):

        def current_values(self):
            return [0.5**(self.last_step + 1)]

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
    scheduler = Halving(optimizer)  # created at step 0
    assert optimizer.param_groups[0]['lr'] == 0.5
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]['lr'] == 0.25


def test_scheduler_private_state_names_entries_of_its_state_dict():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
    scheduler = ConstantLR(optimizer, factor=0.5)
    optimizer.step()
    scheduler.step()
    state = scheduler.state_dict()
    assert private.SCHEDULER_PRIVATE_STATE <= set(state)
    assert state[private.SCHEDULER_LAST_VALUE] == [0.5]


def test_mark_initialised_keeps_init_weights_off_the_weights():

    class Net(BaseModule):

        def __init__(self):
            super().__init__(
                init_cfg=dict(type='Constant', layer='Linear', val=3.0))
            self.fc = torch.nn.Linear(2, 2)

    control, marked = Net(), Net()
    for net in (control, marked):
        torch.nn.init.zeros_(net.fc.weight)
    private.mark_initialised(marked)
    control.init_weights()
    marked.init_weights()
    assert torch.all(control.fc.weight == 3.0)
    assert torch.all(marked.fc.weight == 0.0)


def test_record_init_info_names_the_init_of_the_changed_parameters(
        monkeypatch):
    """Inside init_weights the changed weight is logged with the given line,
    the unchanged bias as unchanged; outside, recording does nothing."""

    class Zeros(BaseInit):

        def __call__(self, module):
            torch.nn.init.zeros_(module.fc.weight)
            private.record_init_info(module, 'zeros by the test')

    class Net(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(type=Zeros))
            self.fc = torch.nn.Linear(2, 2)
            torch.nn.init.ones_(self.fc.weight)

    logged = {}
    monkeypatch.setattr(
        BaseModule, '_dump_init_info', lambda self: logged.update({
            name:
            self._params_init_info[param]['init_info']
            for name, param in self.named_parameters()
        }))
    net = Net()
    private.record_init_info(net, 'outside')  # no init_weights running
    net.init_weights()
    assert logged['fc.weight'] == 'zeros by the test'
    assert logged['fc.bias'].startswith('The value is the same')


def test_config_node_changes_reach_the_dumped_config():
    cfg = Config(dict(model=dict(loss_weight='auto')))
    private.config_node(cfg, 'model')['loss_weight'] = 0.25
    assert "loss_weight=0.25" in cfg.pretty_text


def test_config_base_files_resolves_relative_and_package_bases(tmp_path):
    config = tmp_path / 'child.py'
    config.write_text("_base_ = ['./parent.py', "
                      "'mmpretrain::_base_/default_runtime.py']\n")
    (tmp_path / 'parent.py').write_text('x = 1\n')
    mmpretrain = importlib.import_module('mmpretrain')
    packaged = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', '_base_',
        'default_runtime.py')
    assert [
        osp.normpath(path) for path in private.config_base_files(str(config))
    ] == [str(tmp_path / 'parent.py'), packaged]
    assert not private.is_lazy_import_config(str(config))
    lazy = tmp_path / 'lazy.py'
    lazy.write_text('from mmengine.config import read_base\n'
                    'with read_base():\n    from .parent import *\n')
    assert private.is_lazy_import_config(str(lazy))


def test_load_checkpoint_file_returns_the_saved_dict(tmp_path):
    path = str(tmp_path / 'weights.pth')
    torch.save(dict(state_dict=dict(w=torch.arange(3.))), path)
    loaded = private.load_checkpoint_file(path)
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.))


def test_history_buffer_statistics_names_its_statistics_methods():
    assert {'mean', 'min', 'max', 'current'} <= \
        private.history_buffer_statistics()


def test_converts_bgr_to_rgb_says_whether_channels_are_swapped():
    assert private.converts_bgr_to_rgb(ImgDataPreprocessor(bgr_to_rgb=True))
    assert not private.converts_bgr_to_rgb(ImgDataPreprocessor())


@functools.lru_cache(maxsize=None)
def _mmengine_private_names() -> frozenset:
    """Every ``_name`` (not dunder) MMEngine's source defines or assigns."""
    names = set()
    root = osp.dirname(mmengine.__file__)
    for path in glob.glob(osp.join(root, '**', '*.py'), recursive=True):
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                name = node.name
            elif isinstance(node, ast.Attribute) and isinstance(
                    node.ctx, ast.Store):
                name = node.attr
            else:
                continue
            if name.startswith('_') and not name.startswith('__'):
                names.add(name)
    return frozenset(names)


def _private_uses(tree: ast.AST, mmengine_private: set):
    """(line, name) of each private MMEngine name ``tree`` reaches: imported
    from ``mmengine``, read off another object than ``self``/``cls``, or
    given to ``getattr``/``hasattr``/``setattr`` as a string."""
    for node in ast.walk(tree):
        if isinstance(node,
                      ast.ImportFrom) and (node.module
                                           or '').split('.')[0] == 'mmengine':
            for alias in node.names:
                if alias.name.startswith('_'):
                    yield node.lineno, alias.name
        elif (isinstance(node, ast.Attribute) and node.attr in mmengine_private
              and not (isinstance(node.value, ast.Name)
                       and node.value.id in ('self', 'cls'))):
            yield node.lineno, node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ('getattr', 'hasattr', 'setattr')
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in mmengine_private):
            yield node.lineno, node.args[1].value


def _sources():
    paths = glob.glob(
        osp.join(PROJECT_ROOT, 'mmcatkd', '**', '*.py'), recursive=True)
    paths += glob.glob(osp.join(PROJECT_ROOT, 'tools', '*.py'))
    for path in sorted(paths):
        relative = osp.relpath(path, PROJECT_ROOT)
        # compat's workarounds each name the version they patch
        if relative != ADAPTER and not relative.startswith('mmcatkd/compat'):
            yield relative


def test_no_module_but_the_adapter_reaches_mmengine_private_names():
    mmengine_private = _mmengine_private_names()
    found = [
        f'{path}:{line} {name}' for path in _sources()
        for line, name in _private_uses(
            ast.parse(open(osp.join(PROJECT_ROOT, path)).read()),
            mmengine_private)
    ]
    assert found == [], f'go through {ADAPTER}: {found}'


def _mmengine_bases(cls) -> list:
    return [
        base for base in cls.__mro__[1:]
        if base.__module__.split('.')[0] == 'mmengine'
    ]


def _package_classes():
    for path in _sources():
        if not path.startswith('mmcatkd/'):
            continue
        module = importlib.import_module(path[:-3].replace('/', '.').replace(
            '.__init__', ''))
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                yield cls


@functools.lru_cache(maxsize=None)
def _private_names_of(cls) -> frozenset:
    """The private names the body of ``cls`` defines or assigns."""
    return frozenset(_private_names_in(_parse_class(cls)))


def _parse_class(cls) -> ast.AST:
    return ast.parse(inspect.cleandoc('\n' + inspect.getsource(cls)))


def test_no_class_but_the_adapter_overrides_or_reads_mmengine_privates():
    """A subclass of an MMEngine class neither overrides one of its private
    methods nor uses a private attribute it inherits from MMEngine (the
    adapter's classes turn those into public methods)."""
    found = []
    for cls in _package_classes():
        inherited = set()
        for base in _mmengine_bases(cls):
            inherited |= _private_names_of(base)
        used = {
            node.attr
            for node in ast.walk(_parse_class(cls))
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == 'self'
        }
        found += [
            f'{cls.__module__}.{cls.__name__}.{name}'
            for name in sorted((set(vars(cls)) | used) & inherited)
        ]
    assert found == [], f'go through {ADAPTER}: {found}'


def _private_names_in(tree: ast.AST) -> set:
    """The private names a class body defines or assigns on ``self``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            name = node.name
        elif isinstance(node, ast.Attribute) and isinstance(
                node.ctx, ast.Store):
            name = node.attr
        else:
            continue
        if name.startswith('_') and not name.startswith('__'):
            names.add(name)
    return names


@pytest.mark.parametrize('source, expected', [
    ('from mmengine.runner.checkpoint import _load_checkpoint\n', [
        (1, '_load_checkpoint')
    ]),
    ('path = runner._load_from\n', [(1, '_load_from')]),
    ("resuming = getattr(runner, '_resume', False)\n", [(1, '_resume')]),
    ('self._resume = True\nx = self._load_from\n', []),
])
def test_the_scan_finds_what_it_looks_for(source, expected):
    assert list(_private_uses(ast.parse(source),
                              _mmengine_private_names())) == expected
