"""configs/recipes.yml is the one source of truth for the recipes: every
shipped experiment config is in it, every config holds the table's values,
every deliberate difference names its switch and reason, and docs/recipes.md
is the table rendered now."""
import copy
import functools
import os.path as osp

import pytest

from mmcatkd.cli import recipes as recipes_tool
from tests.conftest import PROJECT_ROOT

recipes = recipes_tool
TABLE = recipes.load_table()


@functools.lru_cache(maxsize=None)
def _config(path):
    return recipes.load_config(path)


def test_every_experiment_config_is_in_the_table():
    """A new experiment config without rows (or a listed reason) fails."""
    assert recipes.experiment_configs(), 'no experiment config found'
    assert recipes.uncovered(TABLE) == []
    missing_files = [
        path for path in TABLE['experiments']
        if not osp.isfile(osp.join(PROJECT_ROOT, path))
    ]
    assert missing_files == []


def test_every_field_is_a_key_and_a_label():
    """Each field names a config key (or null) and a label, nothing else (a
    comma in an unquoted flow-style label would split it)."""
    assert {
        name: sorted(field)
        for name, field in TABLE['fields'].items()
        if sorted(field) != ['key', 'label']
    } == {}


def test_every_difference_names_switch_and_reason():
    """Rows where ours differs from the authors' name the switch that gives
    the authors' value and a reason; no row claims a difference that is
    none."""
    problems = []
    for name, entry in list(TABLE['groups'].items()) + list(
            TABLE['experiments'].items()):
        for field, row in recipes.expand(TABLE, entry).items():
            problems += [
                f'{name}: {p}' for p in recipes.row_problems(field, row)
            ]
    assert problems == []


def test_row_check_flags_a_missing_switch():
    """The rule above fails on a row that differs without a reason."""
    row = dict(authors=64, ours=128, switch='train_dataloader.batch_size')
    assert recipes.row_problems('batch', row) == [
        'batch: differs from the authors but names no reason'
    ]
    assert recipes.row_problems('batch', dict(authors=64, ours=64)) == [
        'batch: `ours` equals `authors`; drop `ours`'
    ]


@pytest.mark.parametrize(
    'path',
    sorted(TABLE['experiments']) + sorted(TABLE.get('aliases', {})))
def test_config_holds_the_table(path):
    """Each field of the loaded config equals the table's value (ours where
    the row differs, else the authors'); a config under a second name holds
    the rows of the config it stands for."""
    assert recipes.check(TABLE, path, _config(path)) == []


def test_an_alias_is_checked_against_its_configs_rows():
    """The mission's ImageNet path is held against the rows of its file in
    configs/catkd/ (lr 0.2 for 8 x 64 images): a drifted copy is reported
    under the alias's path."""
    alias = 'configs/catkd_r34_r18_imagenet.py'
    assert TABLE['aliases'][alias] == (
        'configs/catkd/catkd_resnet34_resnet18_8xb64_in1k.py')
    cfg = copy.deepcopy(_config(alias))
    cfg['optim_wrapper']['optimizer']['lr'] = 0.3
    assert recipes.check(TABLE, alias, cfg) == [
        f'{alias}: lr (optim_wrapper.optimizer.lr) is 0.3, the table says 0.2'
    ]


def test_check_catches_drift():
    """Changing one recipe value in a loaded config is reported, with the
    key and both values."""
    path = 'configs/catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py'
    cfg = copy.deepcopy(_config(path))
    cfg['optim_wrapper']['optimizer']['lr'] = 0.1
    del cfg['model']['architecture']['head']['bias']
    assert recipes.check(TABLE, path, cfg) == [
        f'{path}: lr (optim_wrapper.optimizer.lr) is 0.1, the table says '
        '0.05',
        f'{path}: head_bias (model.architecture.head.bias) is '
        "'<not set>', the table says False",
    ]


def test_rendered_doc_is_current():
    """docs/recipes.md is what `python tools/recipes.py render` writes."""
    with open(recipes.DOC) as file:
        assert file.read() == recipes.render(TABLE), (
            'docs/recipes.md is stale: run `python tools/recipes.py render`')


def test_reported_numbers_are_marked_as_the_papers():
    """A reported field (a top-1, how results are reported: no config key)
    says "paper" in the ours column, never "same", which would read as a
    reproduced number; a checked field that equals the authors' says
    "same"."""
    rendered = recipes.render(TABLE).splitlines()
    reported = [line for line in rendered if '| (reported) |' in line]
    assert len(reported) >= 40
    assert [line for line in reported if line.split(' | ')[2] != 'paper'] == []
    lr = [line for line in rendered if line.startswith('| lr | 0.05 |')]
    assert lr and all(line.split(' | ')[2] == 'same' for line in lr)


def test_metafile_results_are_the_tables_paper_numbers():
    """Every method's metafile.yml and the table give each config the same
    paper top-1 (the table's cell starts with the number; the metafile says
    null, or gives no Results, where the table has none)."""
    import yaml
    with open(osp.join(PROJECT_ROOT, 'model-index.yml')) as file:
        metafiles = yaml.safe_load(file)['Import']
    models = []
    for metafile in metafiles:
        with open(osp.join(PROJECT_ROOT, metafile)) as file:
            models += yaml.safe_load(file)['Models']
    compared = 0
    for model in models:
        if model['Config'] not in TABLE['experiments']:
            continue
        rows = recipes.expand(TABLE, TABLE['experiments'][model['Config']])
        paper = str(rows.get('paper_top1', {}).get('authors', '-')).split()[0]
        results = model.get('Results') or [dict(Metrics={})]
        metafile = results[0]['Metrics'].get('Top 1 Accuracy')
        if metafile is None:
            assert not paper[0].isdigit(), model['Config']
        else:
            assert float(paper) == metafile, model['Config']
            compared += 1
    assert compared >= 25
