"""mmcatkd as a user gets it from its wheel: built with `pip wheel`,
installed without the source tree, used from a folder outside it."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import DIGITS_CATKD_CONFIG, PROJECT_ROOT

# what the source distribution carries (MANIFEST.in), copied so that the
# build writes its build/ and egg-info into a temporary folder
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'mmcatkd', 'configs', 'tools')
# two iterations of 4 images of the digits CAT-KD run with a random
# teacher, logged at each, validated (at the end) on 10 images
SHORT_RUN = [
    '--cfg-options', 'model.teacher_ckpt=None', 'train_cfg.max_iters=2',
    'train_dataloader.batch_size=4', 'val_dataloader.batch_size=10',
    'val_dataloader.dataset.indices=10', 'default_hooks.logger.interval=1'
]


def _files(root: str) -> set:
    return {
        osp.relpath(osp.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    }


@pytest.fixture(scope='module')
def wheel_install(tmp_path_factory) -> dict:
    """The wheel's path, the folder it is installed in (pip --target,
    without dependencies: the environment's own serve) and an empty
    working folder outside the source tree."""
    root = tmp_path_factory.mktemp('wheel')
    source = root / 'source'
    source.mkdir()
    for name in SOURCES:
        path = osp.join(PROJECT_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(
                path,
                source / name,
                ignore=shutil.ignore_patterns('__pycache__', '.mim'))
        else:
            shutil.copy(path, source / name)
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    subprocess.run(
        pip + [
            'wheel', '--no-deps', '--no-build-isolation', '--quiet', '-w',
            str(root / 'dist'),
            str(source)
        ],
        check=True,
        capture_output=True)
    wheel, = (root / 'dist').glob('mmcatkd-*.whl')
    target = root / 'site'
    subprocess.run(
        pip + [
            'install', '--no-deps', '--quiet', '--target',
            str(target),
            str(wheel)
        ],
        check=True,
        capture_output=True)
    work = root / 'work'
    work.mkdir()
    return dict(
        source=str(source),
        wheel=str(wheel),
        target=str(target),
        work=str(work))


def _run_installed(install: dict, *command: str) -> str:
    """``command`` in the working folder with the installed wheel first on
    PYTHONPATH (before a source checkout there and site-packages)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [install['target'],
                          os.environ.get('PYTHONPATH')])))
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=install['work'],
        env=env,
        timeout=300)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


def _losses(log: str) -> list:
    return [(float(ce), float(cat)) for ce, cat in re.findall(
        r'student\.loss: (\S+)\s+distill\.loss_cat: (\S+)', log)]


@pytest.mark.slow
def test_the_wheel_ships_configs_tools_and_model_index(wheel_install):
    """mmcatkd/.mim/ in the wheel holds every file of configs/, the
    tools and model-index.yml, as MMPretrain's and MMRazor's wheels do."""
    with zipfile.ZipFile(wheel_install['wheel']) as wheel:
        names = set(wheel.namelist())
    configs = {
        name[len('mmcatkd/.mim/configs/'):]
        for name in names if name.startswith('mmcatkd/.mim/configs/')
    }
    assert configs == _files(osp.join(wheel_install['source'], 'configs'))
    assert {
        'mmcatkd/.mim/tools/train.py', 'mmcatkd/.mim/tools/test.py',
        'mmcatkd/.mim/tools/dist_train.sh', 'mmcatkd/.mim/model-index.yml'
    } <= names


@pytest.mark.slow
def test_installed_wheel_trains_an_mmcatkd_config_from_outside(wheel_install):
    """From a folder outside the source tree, with the installed wheel's
    mmcatkd: a config whose `_base_` is `mmcatkd::...` resolves, and
    `python -m mmcatkd.run mmcatkd::tools/train.py` trains it (the wheel's
    train.py and configs)."""
    target = wheel_install['target']
    user_config = osp.join(wheel_install['work'], 'user_catkd.py')
    with open(user_config, 'w') as file:
        file.write(f"_base_ = ['mmcatkd::{DIGITS_CATKD_CONFIG}']\n")
    found = _run_installed(
        wheel_install, sys.executable, '-c', 'import importlib.util; '
        'print(importlib.util.find_spec("mmcatkd").origin)')
    assert found.split() == [osp.join(target, 'mmcatkd', '__init__.py')]
    log = _run_installed(wheel_install, sys.executable, '-m', 'mmcatkd.run',
                         'mmcatkd::tools/train.py', 'user_catkd.py',
                         '--work-dir', 'run', *SHORT_RUN)
    assert len(_losses(log)) == 2
    assert osp.isfile(osp.join(wheel_install['work'], 'run', 'iter_2.pth'))


@pytest.mark.slow
def test_mim_trains_an_mmcatkd_config_by_name(wheel_install):
    """`mim train mmcatkd NAME.py` finds the config by its file name in
    the installed wheel and runs the wheel's train.py on it."""
    name = osp.basename(DIGITS_CATKD_CONFIG)
    log = _run_installed(wheel_install, sys.executable, '-m', 'mim', 'train',
                         'mmcatkd', name, '--work-dir', 'mim_run', *SHORT_RUN)
    config = osp.join(wheel_install['target'], 'mmcatkd', '.mim', 'configs',
                      DIGITS_CATKD_CONFIG)
    train_py = osp.join(wheel_install['target'], 'mmcatkd', '.mim', 'tools',
                        'train.py')
    assert f'{train_py} {config}' in log
    assert len(_losses(log)) == 2
