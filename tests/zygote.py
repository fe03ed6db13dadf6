"""A pre-imported interpreter that tests fork to run ``python ...`` commands.

A tool started as a command spends about 6 s of CPU importing torch,
MMEngine, MMPretrain, MMRazor and mmcatkd before its few tiny iterations;
the suite starts dozens (the documentation test alone about fifty). Here
one server imports them once (:data:`PRELOAD`, what every tool imports
anyway, ``mmcatkd`` first as the tools do, so its compat patches come
first) and forks a child per command. The child takes the command's
standard streams (passed over a Unix socket), working directory,
environment and ``argv``, runs it as ``python`` would (the script, or
``-m`` module, as ``__main__``) and exits with its status, which comes back
as a process's would (a signal as 128 + its number).

Only commands whose interpreter imports mmcatkd before anything else use
it: our tools and ``python -m mmcatkd.run``. Tests of a fresh interpreter's
behaviour (import order, ``custom_imports``, killing the process, several
processes) start real interpreters.
"""
import atexit
import json
import os
import os.path as osp
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
from typing import List, Optional

#: imported before forking: what the tools import (mmcatkd first, as every
#: entry point does), and the modules MMPretrain's and MMRazor's
#: ``register_all_modules`` import when a Runner starts
PRELOAD = ('mmcatkd', 'mmengine.runner', 'mmpretrain.datasets',
           'mmpretrain.engine', 'mmpretrain.evaluation', 'mmpretrain.models',
           'mmpretrain.structures', 'mmpretrain.visualization',
           'mmrazor.engine', 'mmrazor.models', 'mmrazor.structures',
           'mmcatkd.engine', 'mmcatkd.cam_cache', 'tests.docs.shim')
#: set in a documented command's environment: the server's socket
SOCKET_VARIABLE = 'MMCATKD_DOCTEST_ZYGOTE'
_INT = struct.Struct('!i')


# ------------------------------------------------------------------ client
def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    data = b''
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _request(path: str, argv: List[str], cwd: str, env: dict, runner: str,
             fds: List[int]) -> socket.socket:
    """Send the command; the connection, after the child's pid came."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    body = json.dumps(dict(argv=list(argv), cwd=cwd, env=env,
                           runner=runner)).encode()
    socket.send_fds(conn, [_INT.pack(len(body)) + body], fds)
    return conn


def _status(conn: socket.socket) -> Optional[int]:
    data = _receive_exactly(conn, _INT.size)
    return _INT.unpack(data)[0] if len(data) == _INT.size else None


def run_in_zygote(path: str, argv: List[str]) -> int:
    """Run ``python ARGV`` through the documentation test's shim in the
    server at ``path`` with this process's streams, directory and
    environment; its exit status."""
    conn = _request(path, argv, os.getcwd(), dict(os.environ), 'shim',
                    [0, 1, 2])
    _status(conn)  # the child's pid
    status = _status(conn)
    conn.close()
    if status is None:
        print(
            'zygote: the server went away while running python '
            f'{" ".join(argv)}',
            file=sys.stderr)
        return 1
    return status


# ------------------------------------------------------------------ child
def run_as_python(argv: List[str]) -> None:
    """Run ``python ARGV`` (a script, or ``-m module``) in this interpreter,
    as ``__main__`` with ``sys.argv`` and ``sys.path[0]`` as ``python`` sets
    them (the documentation test's shim runs its tools with it too)."""
    import runpy
    if argv[:1] == ['-m']:
        sys.argv = [argv[1]] + list(argv[2:])
        sys.path[0] = os.getcwd()
        runpy.run_module(argv[1], run_name='__main__', alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path[0] = osp.dirname(osp.abspath(argv[0]))
        runpy.run_path(argv[0], run_name='__main__')


def _run_command(request: dict, fds) -> int:
    """In the forked child: become the command and run it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, 'w', closefd=False)
    sys.stderr = open(2, 'w', closefd=False)
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # the command's PYTHONPATH entries that the server's did not have
    extra = [
        entry
        for entry in request['env'].get('PYTHONPATH', '').split(os.pathsep)
        if entry and entry not in sys.path
    ]
    sys.path[1:1] = extra
    threads = request['env'].get('OMP_NUM_THREADS', '')
    if threads.isdigit() and 'torch' in sys.modules:  # read when torch loads
        sys.modules['torch'].set_num_threads(int(threads))
    try:
        if request['runner'] == 'shim':
            from tests.docs import shim
            shim.main(request['argv'])
        else:
            run_as_python(request['argv'])
        code = 0
    except SystemExit as exit:
        if exit.code is None:
            code = 0
        elif isinstance(exit.code, int):
            code = exit.code
        else:
            print(exit.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    import logging
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


# ------------------------------------------------------------------ server
def serve(path: str) -> None:
    """Import :data:`PRELOAD`, listen at ``path``, fork per request; each
    request's connection gets the child's pid, then its exit status. Ends
    on SIGTERM, killing the children still running."""
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    children = {}  # pid -> connection waiting for the status

    def stop(*_):
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    parent = os.getppid()
    print('ready', flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        if os.getppid() != parent:  # the test process died without stopping it
            stop()
        if selector.select(timeout=0.05):
            conn, _ = listener.accept()
            header, fds, _, _ = socket.recv_fds(conn, _INT.size + 65536, 3)
            size = _INT.unpack(header[:_INT.size])[0]
            body = header[_INT.size:]
            body += _receive_exactly(conn, size - len(body))
            pid = os.fork()
            if pid == 0:
                os.setpgid(0, 0)  # a group of its own: killed as one
                listener.close()
                conn.close()
                code = 1
                try:
                    code = _run_command(json.loads(body), fds)
                finally:
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            try:
                conn.sendall(_INT.pack(pid))
            except OSError:
                pass
            children[pid] = conn
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code  # killed: 128 + signal
            try:
                conn.sendall(_INT.pack(code))
            except OSError:
                pass
            conn.close()


class Zygote:
    """The server as a context manager: started with ``env`` (its
    PYTHONPATH decides what is imported), stopped at the end."""

    def __init__(self, env: dict, folder: str):
        self.path = osp.join(folder, 'zygote.sock')
        self.env = env
        self.process = None

    def __enter__(self) -> 'Zygote':
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tests.zygote', self.path],
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
            cwd=osp.dirname(osp.dirname(osp.abspath(__file__))),
            start_new_session=True)
        line = self.process.stdout.readline()
        if line.strip() != 'ready':
            self.process.kill()
            raise RuntimeError('the zygote server did not start (exit status '
                               f'{self.process.wait()}); its error is above')
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        if osp.exists(self.path):
            os.remove(self.path)

    def run(self,
            argv: List[str],
            cwd: str,
            env: Optional[dict] = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
        """``subprocess.run([python, *argv], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=timeout)``, forked from the
        server."""
        env = dict(os.environ if env is None else env)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile(
        ) as err, open(os.devnull) as stdin:
            conn = _request(
                self.path, argv, cwd, env, 'python',
                [stdin.fileno(), out.fileno(),
                 err.fileno()])
            conn.settimeout(timeout)
            try:
                pid = _status(conn)
                status = _status(conn)
            except socket.timeout:
                os.killpg(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(argv, timeout)
            finally:
                conn.close()
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode(errors='replace')
            stderr = err.read().decode(errors='replace')
        if status is None:
            raise RuntimeError('the zygote server went away while running '
                               f'python {" ".join(argv)}:\n{stderr}')
        return subprocess.CompletedProcess([sys.executable, *argv], status,
                                           stdout, stderr)


_SHARED: Optional[Zygote] = None


def run_command(argv: List[str],
                cwd: str,
                env: Optional[dict] = None,
                timeout: float = 600) -> subprocess.CompletedProcess:
    """``python ARGV`` (a tool, or ``-m mmcatkd.run``) forked from this
    process's shared server, started on first use with this process's
    environment and stopped at exit."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Zygote(dict(os.environ), tempfile.mkdtemp()).__enter__()
        atexit.register(_SHARED.__exit__, None, None, None)
    return _SHARED.run(argv, cwd, env, timeout)


if __name__ == '__main__':
    serve(sys.argv[1])
