"""A pre-imported interpreter that the documentation test forks per command.

Every documented ``python tools/X.py ...`` used to start a fresh interpreter
that spent about 6 s of CPU importing torch, MMEngine, MMPretrain, MMRazor
and mmcatkd before the tool's few shortened iterations (about 5 minutes of
the suite's CPU over the docs' commands). Here one server imports them once
(:data:`PRELOAD`, the modules every tool imports anyway), and each command's
``python`` (``shim.py``) hands it the command instead of importing them: the
server forks, and the child takes the command's standard streams (passed over
a Unix socket), working directory, environment and ``argv``, then runs it as
``shim.py`` would have (``runpy``, ``__main__``) and exits with its status.

What the command runs and sees is what a fresh interpreter runs and sees: the
same script as ``__main__``, the same arguments, streams, directory and
environment, the same modules (imported earlier, in the same order a tool
imports them: ``mmcatkd`` first, so its compat patches come first).
Anything else (``python -c``, ``-m pip``) is not sent here.
"""
import json
import os
import selectors
import signal
import socket
import struct
import sys
import traceback

#: imported before forking: what the tools import (mmcatkd first, as every
#: entry point does), and the modules MMPretrain's and MMRazor's
#: ``register_all_modules`` import when a Runner starts
PRELOAD = ('mmcatkd', 'mmengine.runner', 'mmpretrain.datasets',
           'mmpretrain.engine', 'mmpretrain.evaluation', 'mmpretrain.models',
           'mmpretrain.structures', 'mmpretrain.visualization',
           'mmrazor.engine', 'mmrazor.models', 'mmrazor.structures',
           'mmcatkd.engine', 'mmcatkd.cam_cache', 'tests.docs.shim')
#: set in a command's environment: the server's socket
SOCKET_VARIABLE = 'MMCATKD_DOCTEST_ZYGOTE'
_STATUS = struct.Struct('!i')


# ------------------------------------------------------------------ client
def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    data = b''
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def run_in_zygote(path: str, argv) -> int:
    """Run ``python ARGV`` in the server at ``path`` with this process's
    streams, directory and environment; its exit status."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    request = json.dumps(
        dict(argv=list(argv), cwd=os.getcwd(), env=dict(os.environ))).encode()
    socket.send_fds(conn, [_STATUS.pack(len(request)) + request], [0, 1, 2])
    status = _receive_exactly(conn, _STATUS.size)
    conn.close()
    if len(status) != _STATUS.size:
        print(
            'documentation test: the zygote server went away while '
            f'running python {" ".join(argv)}',
            file=sys.stderr)
        return 1
    return _STATUS.unpack(status)[0]


# ------------------------------------------------------------------ child
def _run_command(request: dict, fds) -> int:
    """In the forked child: become the command and run it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, 'w', closefd=False)
    sys.stderr = open(2, 'w', closefd=False)
    os.chdir(request['cwd'])
    sys.path[0] = request['cwd']  # as `python -m`; a script's folder: shim
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
    from tests.docs import shim
    try:
        shim.main(request['argv'])
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
    import atexit
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
    request's connection gets the child's exit status. Ends on SIGTERM,
    killing the children still running."""
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
    print('ready', flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        if selector.select(timeout=0.05):
            conn, _ = listener.accept()
            header, fds, _, _ = socket.recv_fds(conn, _STATUS.size + 65536, 3)
            size = _STATUS.unpack(header[:_STATUS.size])[0]
            body = header[_STATUS.size:]
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
                conn.sendall(_STATUS.pack(code))
            except OSError:
                pass
            conn.close()


class Zygote:
    """The server as a context manager: started with ``env`` (the commands'
    environment: its PYTHONPATH decides what is imported), stopped at the
    end."""

    def __init__(self, env: dict, folder: str):
        self.path = os.path.join(folder, 'zygote.sock')
        self.env = env
        self.process = None

    def __enter__(self) -> 'Zygote':
        import subprocess
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tests.docs.zygote', self.path],
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True)
        line = self.process.stdout.readline()
        if line.strip() != 'ready':
            self.process.kill()
            raise RuntimeError(
                'the documentation test\'s zygote server did not start '
                f'(exit status {self.process.wait()}); its error is above')
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        if os.path.exists(self.path):
            os.remove(self.path)


if __name__ == '__main__':
    serve(sys.argv[1])
