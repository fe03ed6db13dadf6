"""Every mmcatkd module imports only its own layer or the layers below.

tools, cli -> apis, engine, visualization, benchmark, cam_cache -> models,
converters, evaluation, datasets -> utils (docs/development.md, "The method
and its parts"); ``models`` imports neither ``evaluation`` nor ``datasets``
(nor anything above). The teacher-CAM cache is one subpackage that spans
layers: it sits with apis and engine (nothing below imports it), and those
of its modules that models and datasets would otherwise hold (its format,
identity, views and algorithm) import only what those layers may, plus the
cache's format and identity. Read from the source with ``ast``, so an
import inside a function counts as well.
"""
import ast
import glob
import os.path as osp

from tests.conftest import PROJECT_ROOT

LAYERS = {
    'compat': 0,
    'version': 0,
    'utils': 0,
    'models': 1,
    'evaluation': 1,
    'datasets': 1,
    'converters': 1,
    'apis': 2,
    'engine': 2,
    'visualization': 2,
    'benchmark': 2,
    'cam_cache': 2,  # builder, hook, commands; see CAM_CACHE_LOW
    'tools': 3,
    'run': 3,  # mmcatkd.run starts tools
    'cli': 3,  # the tools' command lines, imported only by tools/
}
#: within layer 1, who may import whom (layers 0 and 2 mix freely)
SAME_LAYER = {
    # torchvision:// teachers are converted while the teacher loads
    'models': {'models', 'converters'},
    'converters': {'converters'},
    'datasets': {'datasets'},
    'evaluation': {'evaluation', 'models', 'datasets'},
}
#: upward imports allowed, each with its reason (none today)
EXCEPTIONS = {}
#: the modules of mmcatkd.cam_cache at the models/datasets level, with what
#: each may import: the algorithm registers without the engine or the
#: builder, the views transform without the models
CAM_CACHE_LOW = {
    'mmcatkd.cam_cache.format': {'utils'},
    'mmcatkd.cam_cache.identity': {'utils', 'models'},
    'mmcatkd.cam_cache.views': {'utils', 'datasets', 'cam_cache.format'},
    'mmcatkd.cam_cache.algorithm':
    {'utils', 'models', 'cam_cache.format', 'cam_cache.identity'},
}


def _part(module: str) -> str:
    """'mmcatkd.models.heads.cam_head' -> 'models'; 'tools.x' -> 'tools'."""
    names = module.split('.')
    return 'tools' if names[0] == 'tools' else names[1]


def _imports(path: str, module: str):
    """The mmcatkd modules ``path`` (module ``module``) imports."""
    package = module.split('.')
    if not path.endswith('__init__.py'):
        package = package[:-1]
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                yield '.'.join(base + ([node.module] if node.module else []))
            else:
                yield node.module


def _sources():
    for path in glob.glob(
            osp.join(PROJECT_ROOT, 'mmcatkd', '**', '*.py'),
            recursive=True) + glob.glob(
                osp.join(PROJECT_ROOT, 'tools', '*.py')):
        relative = osp.relpath(path, PROJECT_ROOT)[:-3].replace(osp.sep, '.')
        yield path, relative.replace('.__init__', '')


def test_no_module_imports_a_layer_above_it():
    """Each import of mmcatkd code goes to the same layer or one below."""
    upward = []
    for path, module in _sources():
        if module == 'mmcatkd':
            continue  # the package root registers everything
        part = _part(module)
        for target in _imports(path, module):
            if not target.startswith('mmcatkd.'):
                continue
            target_part = target.split('.')[1]
            allowed = (
                LAYERS[target_part] < LAYERS[part]
                or target_part in SAME_LAYER.get(part, {part})
                or (LAYERS[target_part] == LAYERS[part]
                    and part not in SAME_LAYER))
            if not allowed and (module, target) not in EXCEPTIONS:
                upward.append(f'{module} imports {target}')
    assert not upward, upward


def test_cache_modules_at_the_model_level_import_only_below_it():
    """The cache's format, identity, views and algorithm import only
    utils, the models or datasets layer they belong with, and the cache's
    format and identity."""
    found = {module: set() for module in CAM_CACHE_LOW}
    for path, module in _sources():
        if module not in CAM_CACHE_LOW:
            continue
        for target in _imports(path, module):
            if not target.startswith('mmcatkd.'):
                continue
            names = target.split('.')
            part = names[1]
            found[module].add('.'.join(names[1:3]) if part ==
                              'cam_cache' else part)
    assert all(found.values())  # each module was read
    wrong = {
        module: sorted(parts - CAM_CACHE_LOW[module])
        for module, parts in found.items() if parts - CAM_CACHE_LOW[module]
    }
    assert not wrong, wrong


def test_tools_do_not_import_each_other():
    """What two tools share lives in mmcatkd (mmcatkd.apis for loading)."""
    tools = {
        module.split('.')[-1]
        for _, module in _sources() if module.startswith('tools.')
    }
    shared = [
        f'{module} imports {target}' for path, module in _sources()
        if module.startswith('tools.') for target in _imports(path, module)
        if target.split('.')[0] in tools or target.startswith('tools.')
    ]
    assert not shared, shared


def test_only_each_tool_imports_its_command_line():
    """mmcatkd.cli is the top layer: tools/<name>.py imports
    mmcatkd.cli.<name> and no other; no module of mmcatkd (the command
    lines included) imports mmcatkd.cli, so what two tools share lives
    below it."""
    wrong, seen = [], set()
    for path, module in _sources():
        for target in _imports(path, module):
            if not (target + '.').startswith('mmcatkd.cli.'):
                continue
            if module.startswith('tools.') and (target == 'mmcatkd.cli.' +
                                                module.split('.')[-1]):
                seen.add(module)
                continue
            wrong.append(f'{module} imports {target}')
    assert not wrong, wrong
    assert {'tools.train', 'tools.demo', 'tools.benchmark'} <= seen


def test_the_rule_sees_an_upward_import(tmp_path):
    """The walk resolves relative imports: models importing evaluation is
    caught, and so is the cache's views importing its builder."""
    path = tmp_path / 'algo.py'
    path.write_text('from ...evaluation.metrics import cam_iou\n')
    targets = list(_imports(str(path), 'mmcatkd.models.algorithms.algo'))
    assert targets == ['mmcatkd.evaluation.metrics']
    assert LAYERS['evaluation'] == LAYERS['models']
    assert 'evaluation' not in SAME_LAYER['models']
    views = tmp_path / 'views.py'
    views.write_text('from .builder import CacheBuilder\n')
    assert list(
        _imports(str(views),
                 'mmcatkd.cam_cache.views')) == ['mmcatkd.cam_cache.builder']
    assert 'cam_cache.builder' not in CAM_CACHE_LOW['mmcatkd.cam_cache.views']
