"""configs/ is laid out as MMRazor's configs/distill/mmcls/: one folder per
method with a README.md and a metafile.yml that model-index.yml imports,
every experiment config listed under its own file name, names of the form
``<algo>_<parts>_<teacher>_<student>_<N>xb<B>_<data>.py`` that say the
config's batch, and the mission's ImageNet path kept as an alias."""
import glob
import os
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

from tests.conftest import PROJECT_ROOT

CONFIGS = osp.join(PROJECT_ROOT, 'configs')
# the path the mission's commands name, and the config it stands for
ALIAS = 'configs/catkd_r34_r18_imagenet.py'
TWIN = 'configs/catkd/catkd_resnet34_resnet18_8xb64_in1k.py'
METHOD_FOLDERS = sorted(
    name for name in os.listdir(CONFIGS)
    if osp.isdir(osp.join(CONFIGS, name)) and name != '_base_')
EXPERIMENTS = sorted(
    osp.relpath(path, PROJECT_ROOT)
    for path in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(path, CONFIGS).split(osp.sep))
# custom-folder: the own-pair example's image folder (docs/your_own_pair.md)
DATA_SETS = {'cifar100', 'cifar100-lt100', 'in1k', 'digits', 'custom-folder'}
# the folders whose every number is one the CAT-KD paper prints (the
# own-pair example, on the user's data, apart)
PAPER_FOLDERS = {'catkd', 'cat', 'kd', 'dkd', 'vanilla'}
RESULTS_SOURCES = {'paper', "authors' code", 'none'}


def _yaml(path):
    with open(osp.join(PROJECT_ROOT, path)) as file:
        return yaml.safe_load(file)


def _entries():
    """(metafile, entry) for every Models entry model-index.yml reaches."""
    return [(metafile, entry)
            for metafile in _yaml('model-index.yml')['Import']
            for entry in _yaml(metafile)['Models']]


def test_the_method_folders_are_the_ones_documented():
    """docs/development.md's folder map names exactly these folders."""
    assert METHOD_FOLDERS == [
        'cakd', 'cat', 'catkd', 'clskd', 'demo', 'dkd', 'kd', 'mtkd', 'vanilla'
    ]


def test_every_method_folder_has_a_readme_and_a_metafile_in_the_index():
    missing = [
        f'configs/{folder}/{name}' for folder in METHOD_FOLDERS
        for name in ('README.md', 'metafile.yml')
        if not osp.isfile(osp.join(CONFIGS, folder, name))
    ]
    assert missing == []
    assert _yaml('model-index.yml')['Import'] == [
        f'configs/{folder}/metafile.yml' for folder in METHOD_FOLDERS
    ]


def test_every_experiment_config_has_one_entry_named_as_its_file():
    """Each config outside ``_base_`` folders (the alias apart) is the
    Config of exactly one entry, in its own folder's metafile, whose Name
    is the file name; no entry names a missing file."""
    entries = _entries()
    configs = [entry['Config'] for _, entry in entries]
    assert len(configs) == len(set(configs))
    assert sorted(configs) == [path for path in EXPERIMENTS if path != ALIAS]
    names = [entry['Name'] for _, entry in entries]
    assert len(names) == len(set(names))
    for metafile, entry in entries:
        assert entry['Name'] == osp.basename(entry['Config'])[:-len('.py')]
        assert osp.dirname(metafile) == '/'.join(
            entry['Config'].split('/')[:2]), entry['Name']


def test_entries_claim_no_weights_and_say_whose_numbers_they_are():
    """No entry claims weights; Results are published numbers whose source
    is named (`none`: no Results at all); the paper's experiments are
    marked as the paper's; every local config an entry names exists and
    every entry belongs to a collection of its metafile."""
    for metafile, entry in _entries():
        name = entry['Name']
        collections = {c['Name'] for c in _yaml(metafile)['Collections']}
        assert entry['In Collection'] in collections, name
        assert entry['Weights'] is None, name
        source = entry['Metadata']['Results Source']
        assert source in RESULTS_SOURCES, name
        assert (source == 'none') == ('Results' not in entry), name
        if (entry['Config'].split('/')[1] in PAPER_FOLDERS
                and not name.endswith('_custom-folder')):
            assert source == 'paper', name
        for role in ('Student', 'Teacher'):
            if role in entry['Metadata']:
                assert entry['Metadata'][role]['Weights'] is None, name
                path = entry['Metadata'][role]['Config']
                assert not path.startswith('configs/') or osp.isfile(
                    osp.join(PROJECT_ROOT, path)), (name, path)


def test_the_papers_cat_kd_experiments_are_listed_with_their_models():
    """Every CAT-KD, CAT, KD and DKD experiment of the paper names its
    student's model file and its teacher's config."""
    listed = {entry['Config']: entry for _, entry in _entries()}
    ours = [
        path for path in EXPERIMENTS
        if path.split('/')[1] in {'catkd', 'cat', 'kd', 'dkd'}
        and not path.endswith('_custom-folder.py')
    ]
    assert len(ours) == 24  # with the timm-teacher ImageNet config
    for path in ours:
        metadata = listed[path]['Metadata']
        assert set(metadata) >= {'Student', 'Teacher'}, path


@pytest.mark.parametrize('path', EXPERIMENTS)
def test_the_name_has_the_mmrazor_fields(path):
    """``..._<N>xb<B>_<data>.py``: lower case, hyphens inside a field, a
    known data set last (the alias keeps the mission's name)."""
    if path == ALIAS:
        return
    fields = osp.basename(path)[:-len('.py')].split('_')
    assert all(re.fullmatch(r'[a-z0-9-]+', field) for field in fields)
    assert re.fullmatch(r'\d+xb\d+', fields[-2]), path
    assert fields[-1] in DATA_SETS, path


@pytest.mark.slow  # ~100 config parses
@pytest.mark.parametrize('path', [p for p in EXPERIMENTS if p != ALIAS])
def test_the_names_batch_is_the_configs(path):
    """B is the batch per GPU of train_dataloader, and N x B the total
    batch the lr is for (auto_scale_lr), where the config gives one."""
    gpus, batch = map(
        int,
        osp.basename(path)[:-len('.py')].split('_')[-2].split('xb'))
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, path))
    assert cfg.train_dataloader.batch_size == batch
    if 'auto_scale_lr' in cfg:
        assert cfg.auto_scale_lr.base_batch_size == gpus * batch


def test_the_missions_path_is_its_catkd_twin():
    """configs/catkd_r34_r18_imagenet.py, which the mission's commands
    name, only inherits its file in configs/catkd/ and loads to the same
    config, key for key (the student and teacher files included)."""
    with open(osp.join(PROJECT_ROOT, ALIAS)) as file:
        code = [
            line for line in file.read().splitlines()
            if line.strip() and not line.startswith('#')
        ]
    assert code == [f"_base_ = ['./{osp.relpath(TWIN, 'configs')}']"]
    alias = Config.fromfile(osp.join(PROJECT_ROOT, ALIAS)).to_dict()
    twin = Config.fromfile(osp.join(PROJECT_ROOT, TWIN)).to_dict()
    assert alias == twin
    assert alias['model']['architecture']['cfg_path'] == osp.join(
        CONFIGS, 'catkd', '..', '_base_', 'models', 'imagenet', 'resnet18.py')


def _docs():
    """README.md, docs/*.md and the method folders' READMEs."""
    return ['README.md'] + sorted(
        osp.relpath(path, PROJECT_ROOT)
        for pattern in ('docs/*.md', 'configs/*/README.md')
        for path in glob.glob(osp.join(PROJECT_ROOT, pattern)))


def test_every_config_path_the_docs_name_exists():
    """A config path in the documentation (``configs/...py``, not a glob
    or a pattern with braces) names a file, and every relative link of a
    method README resolves: renamed configs leave no stale name behind."""
    missing = []
    for doc in _docs():
        with open(osp.join(PROJECT_ROOT, doc)) as file:
            text = file.read()
        for path in re.findall(r'(?<![\w/.-])configs/[\w./-]+\.py', text):
            if not osp.isfile(osp.join(PROJECT_ROOT, path)):
                missing.append(f'{doc}: {path}')
        if doc.startswith('configs/'):
            for link in re.findall(r'\]\(([^)#:]+)\)', text):
                target = osp.join(PROJECT_ROOT, osp.dirname(doc), link)
                if not osp.exists(target):
                    missing.append(f'{doc}: {link}')
    assert missing == []


def _bibtex(text):
    """The BibTeX entries of a Markdown text, by key."""
    return {
        re.match(r'@\w+\{([^,]+),', entry).group(1): entry
        for entry in re.findall(r'```bibtex\n(.*?)```', text, re.S)
    }


def test_every_method_readme_cites_as_docs_citation_does():
    """Each method README ends with a citation; an entry that
    docs/citation.md also gives is the same text, field for field."""
    with open(osp.join(PROJECT_ROOT, 'docs', 'citation.md')) as file:
        confirmed = _bibtex(file.read())
    for folder in METHOD_FOLDERS:
        with open(osp.join(CONFIGS, folder, 'README.md')) as file:
            entries = _bibtex(file.read())
        assert entries, folder
        for key, entry in entries.items():
            assert entry == confirmed.get(key, entry), (folder, key)
