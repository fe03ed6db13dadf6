"""Hold the experiment configs against the recipe table configs/recipes.yml.

    python tools/recipes.py check [CONFIG ...]   # every config by default
    python tools/recipes.py render               # writes docs/recipes.md

`check` loads each config through MMEngine (a student or teacher given by
``cfg_path`` is read from its model file with the overrides applied, as the
algorithm builds it) and prints every field whose value differs from the
table. `render` writes the table as Markdown. The schema is described at the
top of configs/recipes.yml.
"""
import argparse
import fnmatch
import glob
import os.path as osp
import sys
from typing import Any, Dict, List

import yaml

from mmcatkd.engine.cli import entry_point
from mmcatkd.utils.atomic_file import atomic_write
from mmcatkd.utils.errors import ConfigKeyError
from mmcatkd.utils.project_files import project_root

PROJECT_ROOT = project_root()
TABLE = osp.join(PROJECT_ROOT, 'configs', 'recipes.yml')
DOC = osp.join(PROJECT_ROOT, 'docs', 'recipes.md')
ROW_KEYS = {'authors', 'ours', 'switch', 'reason', 'key', 'source'}
MISSING = '<not set>'


def load_table(path: str = TABLE) -> Dict[str, Any]:
    with open(path) as file:
        return yaml.safe_load(file)


def experiment_configs() -> List[str]:
    """Every config under configs/ outside ``_base_`` folders, as
    ``configs/...`` paths."""
    paths = glob.glob(
        osp.join(PROJECT_ROOT, 'configs', '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(path, PROJECT_ROOT) for path in paths
        if '_base_' not in osp.relpath(path, PROJECT_ROOT).split(osp.sep))


def _row(value: Any) -> Dict[str, Any]:
    """A table row as a mapping; a bare value is the authors' and ours."""
    if isinstance(value, dict) and 'authors' in value:
        return dict(value)
    return dict(authors=value)


def expand(table: Dict, entry: Dict, seen=()) -> Dict[str, Dict]:
    """The rows of an experiment (or group) entry, groups in ``use``
    expanded first, later rows replacing earlier ones."""
    rows = {}
    for group in entry.get('use', []):
        if group in seen or group not in table['groups']:
            raise ConfigKeyError(
                f'recipes.yml: unknown or circular group {group}')
        rows.update(expand(table, table['groups'][group], seen + (group, )))
    for field, value in entry.items():
        if field in ('use', 'source'):
            continue
        if field not in table['fields']:
            raise ConfigKeyError(f'recipes.yml: unknown field {field}')
        if (isinstance(value, dict) and field in rows and value
                and set(value) <= {'key', 'source'}):
            # the same values read from another key
            rows[field] = dict(rows[field], **value)
        else:
            rows[field] = _row(value)
    return rows


def row_problems(field: str, row: Dict) -> List[str]:
    """What is wrong with a row itself (not with a config)."""
    problems = [f'{field}: unknown row keys {sorted(set(row) - ROW_KEYS)}'
                ] if set(row) - ROW_KEYS else []
    if 'ours' in row:
        if row['ours'] == row['authors']:
            return problems + [
                f'{field}: `ours` equals `authors`; drop `ours`'
            ]  # noqa: E501
        for needed in ('switch', 'reason'):
            if not row.get(needed):
                problems.append(f'{field}: differs from the authors but '
                                f'names no {needed}')
    return problems


def _plain(value: Any) -> Any:
    """ConfigDicts as dicts and tuples as lists, for comparison with YAML."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def load_config(path: str) -> Dict:
    """The config as plain data, its ``cfg_path`` models resolved."""
    from mmengine.config import Config

    from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
    cfg = _plain(Config.fromfile(osp.join(PROJECT_ROOT, path)).to_dict())
    model = cfg.get('model', {})
    for name in ('architecture', 'teacher'):
        if isinstance(model.get(name), dict):
            model[name] = _plain(resolve_cfg_path(model[name]))
    return cfg


def lookup(cfg: Any, key: str) -> Any:
    """The value at a dotted key (numbers index lists), or MISSING."""
    value = cfg
    for part in key.split('.'):
        if isinstance(value,
                      list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def rows_of(table: Dict, path: str) -> str:
    """The experiment whose rows hold ``path`` (itself, or the config an
    alias stands for)."""
    return table.get('aliases', {}).get(path, path)


def check(table: Dict, path: str, cfg: Dict = None) -> List[str]:
    """Every field of ``path`` (an experiment or an alias) whose config
    value is not the table's."""
    cfg = load_config(path) if cfg is None else cfg
    mismatches = []
    entry = table['experiments'][rows_of(table, path)]
    for field, row in expand(table, entry).items():
        key = row.get('key', table['fields'][field]['key'])
        if key is None:
            continue
        expected = row['ours'] if 'ours' in row else row['authors']
        actual = lookup(cfg, key)
        if actual != expected:
            mismatches.append(
                f'{path}: {field} ({key}) is {actual!r}, the table says '
                f'{expected!r}')
    return mismatches


def uncovered(table: Dict) -> List[str]:
    """Experiment configs that are in no section of the table."""
    patterns = list(table.get('not_paper', {})) + list(
        table.get('pending', {}))
    return [
        path for path in experiment_configs()
        if path not in table['experiments']
        and path not in table.get('aliases', {}) and not any(
            fnmatch.fnmatch(path, pattern) for pattern in patterns)
    ]


def _cell(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return ', '.join(_cell(item) for item in value)
    if isinstance(value, dict):
        args = ', '.join(f'{key}={_cell(item)}' for key, item in value.items()
                         if key != 'type')
        return f'{value.get("type", "")}({args})'
    return str(value).replace('|', '\\|')


def _table(table: Dict, entry: Dict) -> List[str]:
    """Markdown rows of an entry's own rows (its groups are named apart)."""
    own = {
        field: row
        for field, row in expand(table, {
            key: value
            for key, value in entry.items() if key != 'use'
        }).items()
    }
    inherited = expand(table, entry)
    lines = []
    if entry.get('use'):
        lines += [
            'Uses: ' + ', '.join(f'[{group}](#{group})'
                                 for group in entry['use']), ''
        ]
    if entry.get('source'):
        lines += [f'Authors\' source: {entry["source"]}', '']
    if not own:
        return lines
    lines += [
        '| field | authors | ours | config key | switch: reason |',
        '|---|---|---|---|---|'
    ]
    for field in table['fields']:
        if field not in own:
            continue
        row = inherited[field]
        key = row.get('key', table['fields'][field]['key'])
        if 'ours' in row:
            ours = _cell(row['ours'])
        else:
            # a reported field (no config key) is a number or protocol we
            # quote, not one we reproduced
            ours = 'same' if key else 'paper'
        why = f'`{row["switch"]}`: {row["reason"]}' if 'ours' in row else ''
        authors = _cell(row['authors']) + (f' ({_cell(row["source"])})'
                                           if row.get('source') else '')
        lines.append(f'| {_cell(table["fields"][field]["label"])} | '
                     f'{authors} | {ours} | '
                     f'{"`" + key + "`" if key else "(reported)"} | {why} |')
    return lines + ['']


def render(table: Dict) -> str:
    """docs/recipes.md: the shared groups, then one section per config."""
    lines = [
        '# Recipes: the authors\' values and ours', '',
        '<!-- generated by `python tools/recipes.py render` from '
        'configs/recipes.yml; do not edit by hand -->', '',
        'Every shipped experiment config, field by field: the value in the '
        'authors\' released code (or the paper), the config key that holds '
        'ours, and where we differ the switch that gives the authors\' value '
        'and why ("same": ours is the authors\'; "paper": a reported number '
        'or protocol, quoted from the paper or the works it compares with, '
        'that no run of ours has reproduced). Values shared by several '
        'configs are written once, in a group. '
        '`tests/configs/test_recipes.py` loads every config through MMEngine '
        'and fails on any drift from this table; '
        '`python tools/recipes.py check` does the same from the command '
        'line.', '', '## Shared groups', ''
    ]
    for group, entry in table['groups'].items():
        lines += [f'### {group}', ''] + _table(table, entry)
    lines += ['## Experiment configs', '']
    for path, entry in table['experiments'].items():
        lines += [f'### `{path}`', ''] + _table(table, entry)
    if table.get('aliases'):
        lines += ['## Configs under a second name', '']
        lines += [
            f'- `{alias}`: the same config as `{path}`, held against '
            'its rows' for alias, path in table['aliases'].items()
        ]
        lines.append('')
    for section, title in (('not_paper', 'Configs with no paper recipe'),
                           ('pending', 'Configs whose rows are pending')):
        if table.get(section):
            lines += [f'## {title}', '']
            lines += [
                f'- `{pattern}`: {reason}'
                for pattern, reason in table[section].items()
            ]
            lines.append('')
    return '\n'.join(lines)


@entry_point
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command', choices=['check', 'render'])
    parser.add_argument('configs', nargs='*', help='configs/... paths')
    args = parser.parse_args(argv)
    table = load_table()
    if args.command == 'render':
        atomic_write(render(table), DOC)
        print(f'wrote {osp.relpath(DOC, PROJECT_ROOT)}')
        return
    problems = [
        f'not in configs/recipes.yml: {path}' for path in uncovered(table)
    ]
    for path in args.configs or [
            *table['experiments'], *table.get('aliases', {})
    ]:
        if rows_of(table, path) not in table['experiments']:
            problems.append(f'not in configs/recipes.yml: {path}')
            continue
        entry = table['experiments'][rows_of(table, path)]
        for field, row in expand(table, entry).items():
            problems += [f'{path}: {p}' for p in row_problems(field, row)]
        problems += check(table, path)
    print('\n'.join(problems) or 'every config matches configs/recipes.yml')
    sys.exit(1 if problems else 0)
