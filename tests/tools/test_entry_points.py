"""Every script in tools/ is a thin script over its command line in
mmcatkd.cli, goes through the same user-error handling (mmcatkd.engine.cli),
and writes its files atomically.

A static scan of tools/*.py, mmcatkd/cli/*.py (and, for writes, the
modules of apis and benchmark the tools' work lives in), so that a new
tool cannot skip it: the function called under ``if __name__ ==
'__main__':`` is the ``main`` of ``mmcatkd.cli.<tool>`` (or defined in the
script), decorated
with ``entry_point``; the script's usage docstring is its command line's;
``--cfg-options`` use ``CfgOptionsAction``; no file is written with a bare
``open(..., 'w')``, ``torch.save`` or ``savefig`` (unless the line above
says ``not atomic``, e.g. a streamed log).
"""
import ast
import glob
import os.path as osp

import pytest

from tests.conftest import PROJECT_ROOT

TOOLS = sorted(glob.glob(osp.join(PROJECT_ROOT, 'tools', '*.py')))
CLI = sorted(
    path
    for path in glob.glob(osp.join(PROJECT_ROOT, 'mmcatkd', 'cli', '*.py'))
    if not path.endswith('__init__.py'))
#: where the tools' work lives (analysis, benchmark runs, the demo): their
#: writes follow the same rule
TOOL_WORK = sorted(
    glob.glob(
        osp.join(PROJECT_ROOT, 'mmcatkd', 'apis', '**', '*.py'),
        recursive=True) + [
            osp.join(PROJECT_ROOT, 'mmcatkd', 'benchmark', name)
            for name in ('runs.py', 'report.py')
        ])


def _tree(path: str) -> ast.Module:
    with open(path) as f:
        return ast.parse(f.read(), path)


def _main_calls(tree: ast.Module):
    """Names of the functions called in ``if __name__ == '__main__':``."""
    for node in tree.body:
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and getattr(node.test.left, 'id', None) == '__name__'):
            return {
                call.func.id
                for call in ast.walk(node) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
            }
    return set()


def _decorators(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return {
                getattr(d, 'id', getattr(d, 'attr', None))
                for d in node.decorator_list
            }
    return None


def _imported_from(tree: ast.Module, name: str):
    """The module ``name`` is imported from at the top of ``tree``."""
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        if any((alias.asname or alias.name) == name for alias in node.names):
            return node.module
    return None


def _cli_path(tool_path: str) -> str:
    return osp.join(PROJECT_ROOT, 'mmcatkd', 'cli', osp.basename(tool_path))


def test_every_tool_is_found():
    """The scan sees the tools (a moved directory must not make it pass
    vacuously)."""
    names = {osp.basename(path) for path in TOOLS}
    assert {
        'train.py', 'test.py', 'export_student.py', 'convert_teacher.py',
        'visualize_cam.py', 'benchmark.py', 'demo.py', 'linear_probe.py',
        'analyze_attention.py'
    } <= names


def test_every_tool_has_its_command_line_in_the_package():
    """tools/<name>.py and mmcatkd/cli/<name>.py come in pairs (a moved
    directory must not make the scans below pass vacuously)."""
    assert len(CLI) >= 9
    assert {osp.basename(path)
            for path in TOOLS} == {osp.basename(path)
                                   for path in CLI}


@pytest.mark.parametrize('path', TOOLS, ids=osp.basename)
def test_entry_point_handles_user_errors(path):
    tree = _tree(path)
    calls = _main_calls(tree)
    assert calls, f'{osp.basename(path)} has no __main__ block'
    for name in calls:
        source = _imported_from(tree, name)
        if source is not None:
            # the script runs its command line's main from mmcatkd.cli
            tool = osp.basename(path)[:-len('.py')]
            assert source == f'mmcatkd.cli.{tool}', (
                f'{osp.basename(path)} runs {name} from {source}')
            path = _cli_path(path)
            decorators = _decorators(_tree(path), name)
        else:
            decorators = _decorators(tree, name)
        assert decorators is not None, f'{name} is not defined in {path}'
        assert 'entry_point' in decorators, (
            f'{osp.basename(path)}: {name}() is not decorated with '
            'mmcatkd.engine.cli.entry_point')


@pytest.mark.parametrize('path', TOOLS, ids=osp.basename)
def test_script_keeps_the_usage_of_its_command_line(path):
    """The script users read and ``--help`` (built from the command
    line's docstring) say the same."""
    assert ast.get_docstring(
        _tree(path), clean=False) == ast.get_docstring(
            _tree(_cli_path(path)), clean=False)


@pytest.mark.parametrize(
    'path',
    TOOLS + CLI + TOOL_WORK,
    ids=lambda path: osp.relpath(path, PROJECT_ROOT))
def test_no_bare_dict_action_or_non_atomic_write(path):
    tree = _tree(path)
    with open(path) as f:
        lines = f.read().splitlines()
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == 'action' and (getattr(
                node.value, 'id', None) == 'DictAction'):
            problems.append(f'line {node.lineno}: DictAction (use '
                            'CfgOptionsAction)')
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = getattr(func, 'attr', getattr(func, 'id', None))
        if name in ('save', 'savefig', 'dump') and isinstance(
                func, ast.Attribute) and getattr(
                    func.value, 'id',
                    None) in ('torch', 'json', 'fig', 'figure', 'pickle'):
            problems.append(f'line {node.lineno}: {func.value.id}.{name}')
        if name == 'open' and isinstance(func, ast.Name):
            modes = [
                arg.value for arg in node.args[1:2]
                if isinstance(arg, ast.Constant)
            ]
            modes += [
                kw.value.value for kw in node.keywords
                if kw.arg == 'mode' and isinstance(kw.value, ast.Constant)
            ]
            if any(set('wax') & set(str(mode))
                   for mode in modes) and ('not atomic'
                                           not in lines[node.lineno - 2]):
                problems.append(f'line {node.lineno}: open(..., {modes[0]!r})')
    assert not problems, (f'{osp.basename(path)}: {problems}; write through '
                          'mmcatkd.utils.atomic_file')


def test_entry_point_destroys_the_process_group_the_run_started(tmp_path):
    """A distributed run's process group is shut down when ``main`` ends,
    normally, by a user error or by a bug, so the interpreter never exits
    with gloo threads running (which aborted two-process runs with
    SIGABRT)."""
    import torch.distributed as dist

    from mmcatkd.engine.cli import entry_point
    from mmcatkd.utils.errors import ConfigError

    def start_group():
        dist.init_process_group(
            'gloo',
            init_method=f'file://{tmp_path}/store{len(seen)}',
            rank=0,
            world_size=1)
        seen.append(dist.is_initialized())

    seen = []

    @entry_point
    def finishes():
        start_group()

    @entry_point
    def fails():
        start_group()
        raise ConfigError('bad input')

    @entry_point
    def has_a_bug():
        start_group()
        raise ValueError('a bug')

    finishes()
    assert seen == [True] and not dist.is_initialized()
    with pytest.raises(SystemExit):
        fails()
    assert seen == [True, True] and not dist.is_initialized()
    with pytest.raises(ValueError, match='a bug'):
        has_a_bug()
    assert seen == [True, True, True] and not dist.is_initialized()
