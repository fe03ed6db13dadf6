"""A command run through the zygote server (tests/zygote.py)
behaves as in a fresh interpreter: the script runs as ``__main__`` with its
arguments, working directory, environment and standard streams, and the
exit status (an int, a message, an exception, a signal) comes back; only
the imports were done before."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.docs.doc_commands import SHIM, command_env
from tests.zygote import SOCKET_VARIABLE, Zygote

# a tool that tests/docs/shim.py runs unchanged (no options appended)
SCRIPT = '''
import os, sys
print('argv', sys.argv[1:], 'cwd', os.getcwd(), flush=True)
print('variable', os.environ.get('DOC_VARIABLE'), flush=True)
print('preloaded', 'mmcatkd' in sys.modules and 'torch' in sys.modules,
      flush=True)
print('stdin', sys.stdin.read().strip(), flush=True)
print('to stderr', file=sys.stderr, flush=True)
how = sys.argv[1]
if how == 'status':
    sys.exit(3)
if how == 'message':
    sys.exit('a message')
if how == 'exception':
    raise KeyError('boom')
if how == 'signal':
    os.kill(os.getpid(), 9)
'''


@pytest.fixture(scope='module')
def zygote(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp('zygote'))
    with Zygote(command_env(folder, osp.dirname(osp.dirname(SHIM))),
                folder) as server:
        yield server


def _run(zygote, tmp_path, how):
    script = tmp_path / 'average_best.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, DOC_VARIABLE='set by the command')
    env[SOCKET_VARIABLE] = zygote.path
    return subprocess.run(
        [sys.executable, SHIM, str(script), how, 'x y'],
        cwd=str(tmp_path),
        env=env,
        input='from stdin',
        capture_output=True,
        text=True,
        timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize('how, status', [('ok', 0), ('status', 3),
                                         ('message', 1), ('exception', 1),
                                         ('signal', 128 + 9)])
def test_a_command_runs_as_in_a_fresh_interpreter(zygote, tmp_path, how,
                                                  status):
    result = _run(zygote, tmp_path, how)
    assert result.returncode == status, result.stderr
    assert result.stdout.splitlines() == [
        f"argv ['{how}', 'x y'] cwd {tmp_path}",
        'variable set by the command',
        'preloaded True',
        'stdin from stdin',
    ]
    assert result.stderr.splitlines()[0] == 'to stderr'
    if how == 'message':
        assert result.stderr.splitlines()[1] == 'a message'
    if how == 'exception':
        assert result.stderr.rstrip().endswith("KeyError: 'boom'")
        line = SCRIPT.split('\n').index("    raise KeyError('boom')") + 1
        assert f'average_best.py", line {line}' in result.stderr


@pytest.mark.slow
def test_run_is_subprocess_run_of_a_fresh_interpreter(zygote, tmp_path):
    """``Zygote.run`` (the tests' tool commands) gives what
    ``subprocess.run([python, ...], capture_output=True, text=True)`` gives:
    a script or ``-m`` module as ``__main__`` with its argv, directory and
    environment, captured output, the exit status; a timeout kills it."""
    script = tmp_path / 'tool.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, DOC_VARIABLE='set')
    result = zygote.run([str(script), 'status', 'x y'], str(tmp_path), env)
    assert result.returncode == 3
    assert result.stdout.splitlines() == [
        f"argv ['status', 'x y'] cwd {tmp_path}", 'variable set',
        'preloaded True', 'stdin '
    ]
    assert result.stderr == 'to stderr\n'
    module = zygote.run(['-m', 'json.tool', '--help'], str(tmp_path))
    assert module.returncode == 0 and 'json.tool' in module.stdout
    sleeper = tmp_path / 'sleeper.py'
    sleeper.write_text('import time\ntime.sleep(60)\n')
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run([str(sleeper)], str(tmp_path), timeout=1)
