"""Top-level config keys that nothing reads, found before a run starts.

MMEngine's Runner takes the keys it knows from a config and ignores the
rest, so ``trian_cfg = dict(max_iters=2)`` trains the default schedule
without a word. :func:`check_config_keys` looks at each top-level key that
neither the Runner nor the OpenMMLab tools nor mmcatkd read, and that is
not a helper variable of the config (``train_pipeline``, ``data_root``,
...: a name some file of the config's ``_base_`` chain reads, or whose
value is part of another key's value, as in a run's dumped config):

- close to a key the Runner reads (``difflib``'s ratio >= 0.8), it is a
  misspelling: ``ValueError``;
- otherwise, if the config file itself or ``--cfg-options`` gives it, it
  is reported as a warning: another project's code may read it (a key that
  only a base file assigns, say a library of pipelines, is left alone).

Configs in MMEngine's ``lazy_import`` style (``with read_base():``) are not
checked.
"""
import ast
import difflib
import inspect
import os
import sys
from typing import List, Set, Tuple

from mmengine.config import Config
from mmengine.runner import Runner

from ..utils.errors import ConfigError
from ..utils.mmengine_private import config_base_files, is_lazy_import_config

# The keys Runner.from_cfg passes to Runner.__init__, and what else the
# Runner and MMEngine's Config read: a key close to one is a misspelling.
RUNNER_KEYS = frozenset([
    name for name in inspect.signature(Runner.__init__).parameters
    if name not in ('self', 'cfg')
] + [
    'runner_type', 'custom_imports', 'model_wrapper_cfg',
    'find_unused_parameters', 'sync_bn', 'compile', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'strategy', 'init_weights_for_test_or_val'
])
# Read too, but too close to common helper names (train_pipeline) to tell
# a misspelling.
OTHER_READ_KEYS = frozenset([
    'tta_model',
    'tta_pipeline',  # MMPretrain's tools/test.py --tta
    'auto_beta',  # written into a run's dumped config by CATAutoBetaHook
])
CLOSE_RATIO = 0.8
BASE_KEY = '_base_'


def _assigned(tree: ast.Module) -> Set[str]:
    return {
        target.id
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }


def _read_chain(filename: str) -> Tuple[Set[str], Set[str]]:
    """The names that the Python files of a config's ``_base_`` chain read
    (variables, ``_base_.NAME``, ``{{_base_.NAME}}``), and the names that
    only its base files assign."""
    read, in_leaf, in_bases = set(), set(), set()
    todo, seen = [filename], set()
    while todo:
        path = todo.pop()
        if path in seen or not path.endswith('.py'):
            continue
        seen.add(path)
        with open(path, encoding='utf-8') as file:
            tree = ast.parse(file.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                read.add(node.id)
            elif (isinstance(node, (ast.Attribute, ast.Subscript))
                  and isinstance(node.value, ast.Name)
                  and node.value.id == BASE_KEY):
                read.add(
                    node.attr if isinstance(node, ast.Attribute) else getattr(
                        node.slice, 'value', None))
        if path == filename:
            in_leaf = _assigned(tree)
        else:
            in_bases |= _assigned(tree)
        # MMEngine's own resolution of _base_ (relative or PACKAGE::).
        todo += config_base_files(path)
    return read, in_bases - in_leaf


def _uses(value, target) -> bool:
    """Whether ``target`` equals ``value``, a run of items of a list
    ``value`` (``base_pipeline + [...]``) or anything nested in it. An
    empty, ``None`` or boolean ``target`` says nothing: it is never used."""
    if target is None or isinstance(
            target, bool) or (isinstance(target, (dict, list, tuple, str))
                              and not target):
        return False
    if value == target and not isinstance(value, bool):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    elif not isinstance(value, (list, tuple)):
        return False
    if isinstance(target, list) and target and isinstance(value, list):
        size = len(target)
        if any(value[start:start + size] == target
               for start in range(len(value) - size + 1)):
            return True
    return any(_uses(item, target) for item in value)


def check_config_keys(cfg: Config) -> List[str]:
    """Refuse misspelt top-level keys of ``cfg``; return a warning sentence
    for each other key that nothing reads (see the module docstring).

    Raises:
        ValueError: one sentence naming each misspelt key and the known key
            it is close to.
    """
    if cfg.filename and is_lazy_import_config(cfg.filename):
        return []  # its keys come from imports this check does not follow
    keys = [key for key in cfg.keys() if not key.startswith('_')]
    read, in_bases = (
        _read_chain(cfg.filename) if cfg.filename else (set(), set()))
    source = cfg.filename or 'the config'
    misspelt, unknown = [], []
    for key in keys:
        if key in RUNNER_KEYS | OTHER_READ_KEYS | read or any(
                _uses(cfg[other], cfg[key]) for other in keys if other != key):
            continue
        close = difflib.get_close_matches(
            key, sorted(RUNNER_KEYS), n=1, cutoff=CLOSE_RATIO)
        if close:
            misspelt.append(f'{key!r} (did you mean {close[0]!r}?)')
        elif key not in in_bases:
            unknown.append(key)
    if misspelt:
        raise ConfigError(
            f'{source}: unknown top-level '
            f'key{"s" if len(misspelt) > 1 else ""} {", ".join(misspelt)}, '
            'which the Runner would ignore: rename it to the key it should '
            'be.')
    return [
        f'{source}: top-level key {key!r} is read neither by MMEngine\'s '
        'Runner nor by mmcatkd, nor used in another key: it has no effect '
        'unless other code reads it.' for key in unknown
    ]


def warn_unknown_config_keys(cfg: Config, tool: str) -> None:
    """:func:`check_config_keys`, its warnings printed on stderr as
    ``TOOL: warning: ...`` (by the first process only)."""
    warnings = check_config_keys(cfg)
    if os.environ.get('RANK', '0') == '0':
        for warning in warnings:
            print(f'{tool}: warning: {warning}', file=sys.stderr)
