"""tools/dist_train.sh, dist_test.sh and slurm_train.sh run $PYTHON if set,
else the project's .venv/bin/python, else `python` from PATH (they used to
run whatever `python` PATH gave, without torch after `make test`)."""
import os
import os.path as osp
import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT

LAUNCHERS = {
    'dist_train.sh': ['c.py', '2'],
    'dist_test.sh': ['c.py', 'ckpt.pth', '2'],
    'slurm_train.sh': ['partition', 'job', 'c.py'],
}


def _stub(path, name):
    """An executable that records its name and arguments."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as file:
        file.write(f'#!/bin/sh\necho {name} "$@" >> "$CALLS"\n')
    os.chmod(path, 0o755)


def _run(repo, launcher, env_python=None):
    bin_dir = osp.join(repo, 'bin')
    _stub(osp.join(bin_dir, 'python'), 'path-python')
    # srun runs the command it is given, as Slurm does on each node
    with open(osp.join(bin_dir, 'srun'), 'w') as file:
        file.write('#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in\n'
                   '-p) shift 2;; -*) shift;; *) break;; esac; done\n'
                   'exec "$@"\n')
    os.chmod(osp.join(bin_dir, 'srun'), 0o755)
    calls = osp.join(repo, 'calls')
    env = dict(PATH=f'{bin_dir}:/usr/bin:/bin', CALLS=calls)
    if env_python:
        env['PYTHON'] = env_python
    subprocess.run(
        [osp.join(repo, 'tools', launcher)] + LAUNCHERS[launcher],
        env=env,
        check=True,
        cwd=repo)
    with open(calls) as file:
        return file.read().split()


@pytest.fixture
def repo(tmp_path):
    tools = tmp_path / 'tools'
    tools.mkdir()
    for name in list(LAUNCHERS) + ['_python.sh']:
        shutil.copy(osp.join(PROJECT_ROOT, 'tools', name), tools / name)
    return str(tmp_path)


@pytest.mark.parametrize('launcher', sorted(LAUNCHERS))
def test_the_projects_venv_is_preferred_to_path(repo, launcher):
    _stub(osp.join(repo, '.venv', 'bin', 'python'), 'venv-python')
    calls = _run(repo, launcher)
    assert calls[0] == 'venv-python'
    script = 'train.py' if 'train' in launcher else 'test.py'
    assert osp.basename(next(a for a in calls if a.endswith('.py'))) == script


@pytest.mark.parametrize('launcher', sorted(LAUNCHERS))
def test_python_variable_wins(repo, launcher):
    _stub(osp.join(repo, '.venv', 'bin', 'python'), 'venv-python')
    _stub(osp.join(repo, 'mine'), 'my-python')
    assert _run(repo, launcher, osp.join(repo, 'mine'))[0] == 'my-python'


@pytest.mark.parametrize('launcher', sorted(LAUNCHERS))
def test_without_a_venv_python_from_path_runs(repo, launcher):
    assert _run(repo, launcher)[0] == 'path-python'
