"""One sentence instead of a traceback when a tool is given bad input.

Every script in ``tools/`` runs its ``main`` (in :mod:`mmcatkd.cli`)
through :func:`entry_point` (``tests/tools/test_entry_points.py`` checks
it), reads ``--cfg-options`` with :class:`CfgOptionsAction` and checks
output paths with :mod:`mmcatkd.utils.output_paths` before doing the
work.
"""
import argparse
import functools
import os
import os.path as osp
import sys
from contextlib import contextmanager
from typing import Callable

from mmengine.config import DictAction

from .user_errors import user_error_message

TRACEBACK_VARIABLE = 'MMCATKD_TRACEBACK'


def _print_error(tool: str, message: str, err: BaseException) -> None:
    print(
        f'{tool}: error: {message}\n'
        f'({type(err).__name__}; set {TRACEBACK_VARIABLE}=1 for the '
        'traceback)',
        file=sys.stderr)


@contextmanager
def user_errors_as_messages(tool: str):
    """Turn a user's mistake raised in the block into ``SystemExit``.

    A mistake is what :func:`~mmcatkd.engine.user_errors.user_error_message`
    recognises: mmcatkd's :class:`~mmcatkd.utils.errors.UserError` and the
    upstream errors about the user's files, names and configs. The process
    then exits with status 1 after printing ``tool: error: <sentence>`` and
    a hint; ``MMCATKD_TRACEBACK=1`` lets the exception through with its
    traceback. Any other exception is a bug (ours, or in a user's custom
    module) and goes through untouched, with its traceback.
    """
    show_traceback = os.environ.get(TRACEBACK_VARIABLE, '') not in ('', '0')
    try:
        yield
    except Exception as err:
        message = None if show_traceback else user_error_message(err)
        if message is None:
            raise
        _print_error(tool, message, err)
        raise SystemExit(1) from None


def entry_point(main: Callable) -> Callable:
    """Decorate a tool's ``main``: bad input ends in one sentence.

    The whole of ``main`` (argument checks, building, running, writing)
    runs inside :func:`user_errors_as_messages`, named after the tool's
    file, e.g. ``visualize_cam.py: error: image cat.png does not exist.``
    A process group the run started is destroyed when ``main`` ends.
    """
    tool = osp.basename(main.__code__.co_filename)

    @functools.wraps(main)
    def run_main(*args, **kwargs):
        try:
            with user_errors_as_messages(tool):
                result = main(*args, **kwargs)
        except BaseException:
            _destroy_process_group(wait_for_others=False)
            raise
        if _destroy_process_group(
                wait_for_others=True) and (_called_by_the_script(run_main)):
            _exit_distributed_script()
        return result

    run_main.handles_user_errors = True
    return run_main


def _called_by_the_script(run_main: Callable) -> bool:
    """Whether ``run_main`` is the ``main`` of the script this process
    runs: defined in it, or imported by it as ``tools/<name>.py`` imports
    ``main`` from :mod:`mmcatkd.cli` (not a test calling ``main``)."""
    script = sys.modules.get('__main__')
    return (run_main.__module__ == '__main__'
            or getattr(script, 'main', None) is run_main)


def _destroy_process_group(wait_for_others: bool) -> bool:
    """Shut down the process group a distributed run started (MMEngine
    never does), so that no process exits while another still talks to it:
    seen as ``terminate called without an active exception`` (SIGABRT) in
    two-process gloo runs. After a successful ``main`` every process waits
    for the others first; after an error it does not (they may be gone).
    Returns whether there was a group."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return False
    if wait_for_others:
        dist.barrier()
    dist.destroy_process_group()
    return True


def _exit_distributed_script() -> None:
    """End a distributed tool process that finished its work now.

    With torch 2.14 on CPU (gloo, started by torchrun) about one run in four
    still aborted in the interpreter's own teardown after the process group
    was destroyed (``terminate called without an active exception``, exit
    code -6), so torchrun reported a failed run that had saved everything.
    Logs and streams are flushed, then the process exits with status 0
    without that teardown. Only a tool run as a script gets here."""
    import logging
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class CfgOptionsAction(DictAction):
    """MMEngine's ``DictAction`` that answers ``KEY`` without ``=VALUE``
    with a usage error instead of ``ValueError: not enough values to
    unpack``."""

    def __call__(self, parser, namespace, values, option_string=None):
        for option in values:
            if '=' not in option:
                parser.error(
                    f'{option_string} {option}: each override is KEY=VALUE '
                    f'(e.g. {option}=... ; lists: KEY="[a,b]").')
        super().__call__(parser, namespace, values, option_string)


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts and sizes: ``--batch-size -4`` is a
    usage error (``argument --batch-size: -4 is not an integer >= 1``),
    not a tensor with a negative dimension."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text} is not an integer >= 1')
    return value
