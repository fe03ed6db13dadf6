"""Helpers of the reliability tests: run the tools in this process or in a
child, fingerprint a work directory, write bad checkpoints."""
import hashlib
import os
import os.path as osp
import pickle
import subprocess
import sys
import uuid
from typing import Dict, List

import torch

from mmcatkd.cli import train as train_tool
from tests.conftest import TEST_CONFIGS  # noqa: F401
from tests.conftest import PROJECT_ROOT, data_root_options
from tests.zygote import run_command

CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny.py')
STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')
CATKD_RANDOM = osp.join(
    osp.dirname(__file__), 'configs', 'catkd_tiny_random.py')
FAULT_HOOKS = 'tests.reliability.fault_hooks'


def train_args(config: str,
               work_dir: str,
               data_root: str,
               *options,
               resume=None,
               force=False) -> List[str]:
    """tools/train.py arguments; ``options`` are more --cfg-options."""
    args = [config, '--work-dir', work_dir] + (['--force'] if force else [])
    if resume is not None:
        args += ['--resume'] + ([resume] if resume != 'auto' else [])
    return args + ['--cfg-options', *data_root_options(data_root), *options]


def unique_experiment() -> str:
    """A --cfg-options entry naming the experiment uniquely.

    Runners in one process must not share a name: MMEngine keys the
    MessageHub, logger and visualizer by it (default: a one-second
    timestamp) and hands a later Runner the earlier one's instances.
    """
    return f'experiment_name=test_{uuid.uuid4().hex[:8]}'


def train_in_process(*args, **kwargs) -> None:
    """tools/train.py's main in this process (about 1 s for catkd_tiny).

    With one torch thread, as in the child processes (:func:`child_env`):
    for the tiny models, more threads on two shared cores only add overhead.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_tool.main(train_args(*args, **kwargs) + [unique_experiment()])
    finally:
        torch.set_num_threads(threads)


def run_tool(name: str,
             *args,
             env=None,
             timeout=300) -> subprocess.CompletedProcess:
    """``tools/<name>.py args`` as a command, forked from a pre-imported
    interpreter (tests/zygote.py); :func:`start_tool` starts a real one."""
    return run_command([osp.join(PROJECT_ROOT, 'tools', f'{name}.py'), *args],
                       cwd=PROJECT_ROOT,
                       env=env or child_env(),
                       timeout=timeout)


def start_tool(name: str, *args, env=None) -> subprocess.Popen:
    """``tools/<name>.py args`` started in the background (output piped)."""
    return subprocess.Popen(
        [sys.executable,
         osp.join(PROJECT_ROOT, 'tools', f'{name}.py'), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT_ROOT,
        env=env or child_env())


def fingerprint(work_dir: str) -> Dict[str, str]:
    """sha256 of every checkpoint and of last_checkpoint in ``work_dir``."""
    digests = {}
    for name in sorted(os.listdir(work_dir)):
        if name.endswith('.pth') or name == 'last_checkpoint':
            with open(osp.join(work_dir, name), 'rb') as f:
                digests[name] = hashlib.sha256(f.read()).hexdigest()
    return digests


def read_last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


class RunsCode:
    """Pickles as a call of os.system, as a malicious checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def write_malicious_checkpoint(path: str, marker: str) -> str:
    """A checkpoint whose loading with plain pickle would create marker."""
    torch.save(dict(state_dict={}, payload=RunsCode(marker)), path)
    return path


def write_malicious_pickle(path: str, marker: str) -> str:
    """A plain pickle file (no torch.save zip around it) whose loading
    with plain pickle would create marker."""
    with open(path, 'wb') as f:
        pickle.dump(
            dict(state_dict={}, payload=RunsCode(marker)),
            f,
            protocol=pickle.HIGHEST_PROTOCOL)
    return path


def write_truncated_copy(source: str, path: str) -> str:
    """The first half of ``source`` at ``path``."""
    with open(source, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return path


def max_weight_difference(path_a: str, path_b: str) -> float:
    from mmcatkd.utils.checkpoint import safe_torch_load
    a = safe_torch_load(path_a)['state_dict']
    b = safe_torch_load(path_b)['state_dict']
    assert a.keys() == b.keys()
    return max(
        (a[key].double() - b[key].double()).abs().max().item() for key in a)


def config_with_hooks(directory: str, base: str, *hooks: dict) -> str:
    """A config file inheriting ``base`` with the test-only ``hooks`` of
    :mod:`tests.reliability.fault_hooks` as custom hooks."""
    path = osp.join(directory, f'faulty_{uuid.uuid4().hex[:6]}.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'custom_imports = dict(imports=["mmcatkd", {FAULT_HOOKS!r}],'
                ' allow_failed_imports=False)\n'
                f'custom_hooks = {list(hooks)!r}\n')
    return path


def child_env(**variables) -> dict:
    """Environment of child processes: the project root importable (for
    configs importing the test-only fault hooks) and one thread per process
    (the tiny models gain nothing from more on shared cores)."""
    path = os.environ.get('PYTHONPATH')
    return dict(
        os.environ,
        PYTHONPATH=PROJECT_ROOT + (os.pathsep + path if path else ''),
        OMP_NUM_THREADS='1',
        **variables)
