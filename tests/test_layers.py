"""Every mmcatkd module imports only its own layer or the layers below.

tools -> apis, engine, visualization, benchmark -> models, converters,
evaluation, datasets -> utils (DESIGN.md, "Parts and where they live");
``models`` imports neither ``evaluation`` nor ``datasets`` (nor anything
above). Read from the source with ``ast``, so an import inside a function
counts as well.
"""
import ast
import glob
import os.path as osp

from tests.conftest import PROJECT_ROOT

LAYERS = {
    'compat': 0, 'version': 0, 'utils': 0,
    'models': 1, 'evaluation': 1, 'datasets': 1, 'converters': 1,
    'apis': 2, 'engine': 2, 'visualization': 2, 'benchmark': 2,
    'tools': 3, 'run': 3,  # mmcatkd.run starts tools
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
    for path in glob.glob(osp.join(PROJECT_ROOT, 'mmcatkd', '**', '*.py'),
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
            allowed = (LAYERS[target_part] < LAYERS[part]
                       or target_part in SAME_LAYER.get(part, {part})
                       or (LAYERS[target_part] == LAYERS[part]
                           and part not in SAME_LAYER))
            if not allowed and (module, target) not in EXCEPTIONS:
                upward.append(f'{module} imports {target}')
    assert not upward, upward


def test_tools_do_not_import_each_other():
    """What two tools share lives in mmcatkd (mmcatkd.apis for loading)."""
    tools = {module.split('.')[-1] for _, module in _sources()
             if module.startswith('tools.')}
    shared = [
        f'{module} imports {target}' for path, module in _sources()
        if module.startswith('tools.')
        for target in _imports(path, module)
        if target.split('.')[0] in tools or target.startswith('tools.')
    ]
    assert not shared, shared


def test_the_rule_sees_an_upward_import(tmp_path):
    """The walk resolves relative imports: models importing evaluation is
    caught."""
    path = tmp_path / 'algo.py'
    path.write_text('from ...evaluation.metrics import cam_iou\n')
    targets = list(_imports(str(path), 'mmcatkd.models.algorithms.algo'))
    assert targets == ['mmcatkd.evaluation.metrics']
    assert LAYERS['evaluation'] == LAYERS['models']
    assert 'evaluation' not in SAME_LAYER['models']
