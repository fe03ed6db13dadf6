"""Shared test helpers: project paths, the golden data, tiny models and
batches, generated image sets."""
import copy
import hashlib
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

PROJECT_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEST_CONFIGS = osp.join(PROJECT_ROOT, 'tests', 'data', 'configs')
# Shipped configs the packaging and OpenMMLab-tool tests use, relative to
# configs/ as `mmcatkd::` names them (one place to follow a rename): the
# digits demo's student (a plain classifier) and its CAT-KD run.
DIGITS_STUDENT_CONFIG = 'demo/resnet20_1xb16_digits.py'
DIGITS_CATKD_CONFIG = 'demo/catkd_resnet56_resnet20_1xb16_digits.py'

# Golden reference data (the authors' code's numbers): a compact copy in the
# repository, always there (tests/data/golden/README.md), and the full set in
# ../shared/golden beside the clone, or where MMCATKD_GOLDEN says. Tests of
# the full set carry the `golden_full` marker and skip where it is absent.
GOLDEN_SUBSET = osp.join(PROJECT_ROOT, 'tests', 'data', 'golden')
GOLDEN = os.environ.get(
    'MMCATKD_GOLDEN', osp.join(osp.dirname(PROJECT_ROOT), 'shared', 'golden'))
HAS_FULL_GOLDEN = osp.isdir(GOLDEN)
NO_FULL_GOLDEN = (
    f'the full golden set is not at {GOLDEN}: put it in ../shared/golden '
    'beside the clone or set MMCATKD_GOLDEN to its folder (the compact '
    'subset in tests/data/golden was tested)')

import mmcatkd  # noqa: E402,F401  (compat first, as every entry point does)


def golden_params(names) -> list:
    """Parameters ``(root, name)`` for a test over golden files: every
    ``names(GOLDEN_SUBSET)``, then every ``names(GOLDEN)`` marked
    ``golden_full`` (one placeholder, skipped, where the full set is
    absent)."""
    params = [
        pytest.param(GOLDEN_SUBSET, name, id=f'subset-{name}')
        for name in sorted(names(GOLDEN_SUBSET))
    ]
    full = pytest.mark.golden_full
    if not HAS_FULL_GOLDEN:
        return params + [pytest.param(None, None, id='full', marks=full)]
    return params + [
        pytest.param(GOLDEN, name, id=f'full-{name}', marks=full)
        for name in sorted(names(GOLDEN))
    ]


def model_cfg(config: str, **overrides) -> dict:
    """The ``model`` of a test config (a file in tests/data/configs, or a
    path) with its top-level ``data_preprocessor``, updated by
    ``overrides``."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        config if osp.isabs(config) else osp.join(TEST_CONFIGS, config))
    model = copy.deepcopy(cfg.model.to_dict())
    if 'data_preprocessor' in cfg:
        model['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    model.update(overrides)
    return model


def build_model(config: str = 'catkd_tiny.py', **overrides):
    """:func:`model_cfg` built in MMRazor's registry from seed 0."""
    from mmrazor.registry import MODELS
    torch.manual_seed(0)
    return MODELS.build(model_cfg(config, **overrides))


def random_batch(n: int = 4,
                 seed: int = 0,
                 num_classes: int = 4,
                 size: int = 32):
    """``n`` preprocessed-like (3, size, size) normal images and data
    samples labelled ``i % num_classes``."""
    from mmpretrain.structures import DataSample
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, size, size, generator=generator)
    samples = [DataSample().set_gt_label(i % num_classes) for i in range(n)]
    return images, samples


def cams_by_hand(classifier, images: torch.Tensor) -> torch.Tensor:
    """CAM_k = sum_c w_kc f_c (CAT-KD Eq. 2) from the classifier's last
    feature map and its fc weight, (N, K, H, W)."""
    feat = classifier.backbone(images)[-1]
    return torch.einsum('kc,nchw->nkhw', classifier.head.fc.weight, feat)


def cat_by_hand(cams_S: torch.Tensor, cams_T: torch.Tensor, beta: float,
                resolution: int) -> torch.Tensor:
    """CAT-KD Eq. 5 written out: r x r block means (H, W divisible by r),
    each map divided by its l2 norm, mean squared difference, times beta."""

    def pooled(cams):
        n, k, h, w = cams.shape
        blocks = cams.reshape(n, k, resolution, h // resolution, resolution,
                              w // resolution).mean(dim=(3, 5))
        return blocks / blocks.flatten(2).norm(dim=2)[..., None, None]

    return beta * ((pooled(cams_S) - pooled(cams_T))**2).mean()


@pytest.fixture(autouse=True, scope='session')
def one_thread():
    """Every test on one torch thread: the tests' models are tiny, and on a
    shared two-core machine torch's thread pool makes their small forwards
    many times slower, not faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (for import-order behaviour)."""
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          cwd=PROJECT_ROOT,
                          **kwargs)


def write_image_folder(root: str,
                       num_classes: int = 4,
                       per_class: int = 6) -> str:
    """An ImageNet-style folder of 32x32 PNGs whose brightness is the class.

    Returns:
        str: ``root``.
    """
    from PIL import Image
    rng = np.random.default_rng(0)
    for label in range(num_classes):
        folder = osp.join(root, f'class{label}')
        os.makedirs(folder, exist_ok=True)
        for index in range(per_class):
            pixels = rng.random((32, 32, 3)) * 60 + label * 50
            Image.fromarray(pixels.astype(np.uint8)).save(
                osp.join(folder, f'{index}.png'))
    return root


#: fixtures that train through MMEngine's Runner or spawn interpreters: a
#: test that uses one is in the slow tier (`make test-fast` leaves it out)
SLOW_FIXTURES = {
    'trained_catkd',  # reliability: one epoch of tools/train.py
    'catkd_run',
    'guarded_run',
    'bad_checkpoint',  # ... and its copies
    'runs',  # reliability: killed and resumed training runs
    'two_process_epoch',  # tools/dist_train.sh with two processes
    'trained_run',  # tools: train, resume, export
    'demo_runs',  # tools/demo.py twice in fresh interpreters
    'tiny_run',  # tools/benchmark.py in a fresh interpreter
    'no_data_runs',  # tools/train.py started without its data
}


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'golden_full: reads the full golden set (../shared/golden '
        'or $MMCATKD_GOLDEN; skipped where it is absent)')


#: test modules that take longest (over 15 s each), longest first: they
#: start first, so that under ``pytest -n`` (``make test``, ``--dist
#: loadfile``: a module's tests share a worker and its fixtures) the short
#: modules fill the other workers meanwhile instead of waiting for them
LONG_MODULES = (
    'tests/docs/test_doc_commands.py',
    'tests/test_compat.py',
    'tests/tools/test_openmmlab_tools.py',
    'tests/tools/test_train_tools.py',
    'tests/test_demo.py',
    'tests/cam_cache/test_tool.py',
    'tests/configs/test_experiment_configs.py',
    'tests/test_wheel.py',
    'tests/reliability/test_multi_process.py',
    'tests/reliability/test_bug_tracebacks.py',
)


def _start_rank(item) -> int:
    path = osp.relpath(str(item.path), PROJECT_ROOT).replace(os.sep, '/')
    return (LONG_MODULES.index(path)
            if path in LONG_MODULES else len(LONG_MODULES))


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)
        if not HAS_FULL_GOLDEN and item.get_closest_marker('golden_full'):
            item.add_marker(pytest.mark.skip(reason=NO_FULL_GOLDEN))
    items.sort(key=_start_rank)  # stable: each module keeps its order


# ------------------------------------------ a test run leaves the tree as is
#: what a test run may add to a checkout: the interpreter's and pytest's
#: caches, and what `make install` makes
RUN_ARTEFACTS = ('__pycache__', '.pytest_cache', '.venv', '.egg-info')


def _git(root: str, *args: str) -> str:
    return subprocess.run(['git', '--no-optional-locks', *args],
                          cwd=root,
                          capture_output=True,
                          text=True,
                          check=True).stdout


def tree_state(root: str = PROJECT_ROOT):
    """What a test run must not change in the git checkout ``root``: the
    entries of ``git status --porcelain --ignored`` (run artefacts aside)
    and the SHA-256 of every tracked and untracked, not ignored file.
    ``None`` where ``root`` is not the top of a git checkout (a copy, an
    unpacked sdist)."""
    try:
        top = _git(root, 'rev-parse', '--show-toplevel').strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    if osp.realpath(top) != osp.realpath(root):
        return None
    status = {
        entry
        for entry in _git(root, 'status', '--porcelain', '--ignored',
                          '-z').split('\0')
        if entry and not any(
            part.endswith(RUN_ARTEFACTS) for part in entry[3:].split('/'))
    }
    hashes = {}
    for path in _git(root, 'ls-files', '-z', '--cached', '--others',
                     '--exclude-standard').split('\0'):
        full = osp.join(root, path)
        if path and osp.isfile(full) and not osp.islink(full):
            with open(full, 'rb') as file:
                hashes[path] = hashlib.sha256(file.read()).hexdigest()
    return status, hashes


def tree_changes(before, after) -> list:
    """Lines naming what differs between two results of
    :func:`tree_state`."""
    (status_before, hashes_before), (status_after, hashes_after) = (before,
                                                                    after)
    changes = [
        f'git status: {entry!r} is new'
        for entry in sorted(status_after - status_before)
    ]
    changes += [
        f'git status: {entry!r} is gone'
        for entry in sorted(status_before - status_after)
    ]
    changes += [
        f'{path}: changed'
        for path in sorted(set(hashes_before) | set(hashes_after))
        if hashes_before.get(path) != hashes_after.get(path)
    ]
    return changes


TREE_BEFORE = pytest.StashKey()


def pytest_sessionstart(session):
    session.config.stash[TREE_BEFORE] = tree_state()


@pytest.fixture(autouse=True, scope='session')
def tree_unchanged(request):
    """Fail the run if its tests changed the git checkout they run in: every
    test writes under a temporary directory, never into the repository
    (compared with the state before collection, so test modules are
    covered too; about 0.1 s)."""
    yield
    before = request.config.stash.get(TREE_BEFORE, None)
    if before is None:
        return
    changes = tree_changes(before, tree_state())
    if changes:
        pytest.fail(
            'the test run changed the checkout '
            f'{PROJECT_ROOT} (tests write under a temporary '
            'directory, never into the repository):\n' + '\n'.join(changes),
            pytrace=False)


@pytest.fixture(autouse=True)
def isolated_default_scope():
    """Start every test with no MMEngine default scope and undo the one it
    leaves behind (a Runner, a config build or a module-level fixture sets
    the global DefaultScope, e.g. to 'mmpretrain'), so registry lookups do
    not depend on which tests ran before."""
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture
def mim_folder(tmp_path, monkeypatch) -> str:
    """A ``.mim`` folder linked to this checkout's configs/, tools/ and
    model-index.yml, as ``pip install -e .`` links them (setup.py), where
    ``mmcatkd::`` config paths are read for the test: in a temporary
    package folder, so a checkout used through ``PYTHONPATH`` without
    being installed is not written to."""
    from mmcatkd.compat import mmengine_packages
    package_dir = tmp_path / 'mmcatkd'
    (package_dir / '.mim').mkdir(parents=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        (package_dir / '.mim' / name).symlink_to(osp.join(PROJECT_ROOT, name))
    monkeypatch.setattr(mmengine_packages, 'PACKAGE_DIR', str(package_dir))
    return str(package_dir / '.mim')


@pytest.fixture(scope='session')
def image_folder(tmp_path_factory) -> str:
    return write_image_folder(str(tmp_path_factory.mktemp('images')))


def data_root_options(root: str) -> list:
    """``--cfg-options`` pointing every dataloader of a test config at root."""
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
