"""Which exceptions are the user's mistakes, and the sentence each gets.

A tool prints one sentence for (see :func:`user_error_message`):

- the errors mmcatkd raises as :class:`~mmcatkd.utils.errors.UserError`
  (the safe loader's checkpoint errors among them);
- upstream exceptions it recognises as statements about the user's input:
  a missing or unreadable file or a full disk, a name no registry knows, a
  config without ``type``, an option the built class does not take, a
  config file Python cannot parse (named with its path and line, where
  MMEngine says ``File "<unknown>"``), and MMCV's assertions about images
  (:mod:`~mmcatkd.engine.data_errors`).

Everything else (a ``TypeError``, ``KeyError``, ``ValueError``, a torch
``RuntimeError``, ... from our code or from a user's custom loss or
backbone) is a bug and keeps its traceback.
"""
import errno
import inspect
import os.path as osp
import pickle
import re
from typing import Iterator, Optional

from ..utils.errors import UserError
from .data_errors import explain_data_assertion

#: the user's files: missing, a directory, not allowed, already there
FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError,
               PermissionError, FileExistsError)
#: a write that failed for lack of room or a read-only file system
FULL_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
#: a pickled file (a data set's, a checkpoint MMEngine loads itself) that
#: is corrupt
PICKLE_ERRORS = (pickle.UnpicklingError, )
#: MMEngine's build_from_cfg: an unknown type name, a config without type
REGISTRY_ERRORS = re.compile(r'is not in the [^.]+ registry|'
                             r'must contain the key "type"')
#: Python's words when a call's arguments do not fit the signature
ARGUMENT_MISMATCH = re.compile(
    r"^(?P<callee>[\w.<>]+)\(\) (got an unexpected keyword argument "
    r"'(?P<keyword>\w+)'|missing \d+ required \S+ arguments?|got multiple "
    r'values for argument)')
CONFIG_MODULE = osp.join('mmengine', 'config', 'config.py')
REGISTRY_BUILD = osp.join('mmengine', 'registry', 'build_functions.py')


def user_error_message(err: BaseException) -> Optional[str]:
    """The sentence a tool prints for ``err``, or None when it is a bug.

    Also reads an error a dataloader worker re-raised with its traceback as
    text (``Caught OSError in DataLoader worker ...``): the sentence is its
    original message.
    """
    if isinstance(err,
                  (UserError, ) + PICKLE_ERRORS + FILE_ERRORS) or (isinstance(
                      err, OSError) and err.errno in FULL_DISK_ERRNOS):
        return _without_worker_traceback(_text(err))
    if isinstance(err, AssertionError):
        return explain_data_assertion(err)
    if isinstance(err, KeyError) and REGISTRY_ERRORS.search(_text(err)):
        return _text(err)
    if isinstance(err, SyntaxError):
        return _config_syntax_error(err)
    if isinstance(err, TypeError):
        return _option_not_taken(err)
    return None


def _text(err: BaseException) -> str:
    # KeyError's str() is the repr of its argument: use the text itself.
    if isinstance(err, KeyError) and len(err.args) == 1:
        return str(err.args[0])
    return str(err)


def _without_worker_traceback(message: str) -> str:
    """The original message of an error a dataloader worker re-raised with
    its traceback as text (``Caught OSError in DataLoader worker ...``)."""
    if not (message.startswith('Caught ') and 'Original Traceback' in message):
        return message
    last = [line for line in message.splitlines() if line.strip()][-1]
    return last.split(': ', 1)[-1]


def _frames(err: BaseException) -> Iterator:
    """The frames of ``err``'s traceback, outermost first."""
    tb = err.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _config_syntax_error(err: SyntaxError) -> Optional[str]:
    """``'the config PATH has a syntax error at line N: ...'`` for a config
    file MMEngine failed to parse, else None (a syntax error in a custom
    module is a bug). MMEngine's own message names the file ``<unknown>``
    (or names it, and the line only in the text of the error it caught);
    the path is read from its parsing function's frame."""
    paths = [
        frame.f_locals['filename'] for frame in _frames(err)
        if frame.f_code.co_filename.endswith(CONFIG_MODULE)
        and isinstance(frame.f_locals.get('filename'), str)
    ]
    if not paths:
        return None
    parsed = err.__context__ if isinstance(err.__context__,
                                           SyntaxError) else err
    line = f' at line {parsed.lineno}' if parsed.lineno else ''
    return (f'the config {paths[-1]} has a syntax error{line}: '
            f'{parsed.msg}: fix the config file.')


def _option_not_taken(err: TypeError) -> Optional[str]:
    """The message of a ``TypeError`` that says a class built from the
    config does not take an option given to it (misspelt, or missing),
    else None.

    Recognised only where the arguments come from the config: the call
    that failed is MMEngine's ``build_from_cfg`` building the class, or an
    ``__init__`` passing its ``**kwargs`` on to its base class with the
    refused keyword among them. A wrong call inside a module's own code
    (a bug) is neither."""
    match = ARGUMENT_MISMATCH.match(str(err))
    frames = list(_frames(err))
    if match is None or not frames:
        return None
    caller = frames[-1]  # the call that failed never entered the callee
    if caller.f_code.co_filename.endswith(REGISTRY_BUILD):
        built = caller.f_locals.get('obj_cls')
    elif (caller.f_code.co_name == '__init__'
          and match.group('keyword') in (_var_keywords(caller) or {})):
        built = type(caller.f_locals.get('self'))
    else:
        return None
    name = getattr(built, '__name__', match.group('callee'))
    return f'{err}: check the options given to {name} in the config.'


def _var_keywords(frame) -> Optional[dict]:
    """The ``**kwargs`` dict of ``frame``'s function, or None."""
    code = frame.f_code
    if not code.co_flags & inspect.CO_VARKEYWORDS:
        return None
    index = code.co_argcount + code.co_kwonlyargcount + bool(
        code.co_flags & inspect.CO_VARARGS)
    return frame.f_locals.get(code.co_varnames[index])
