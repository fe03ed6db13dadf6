"""One sentence instead of a traceback when a tool is given bad input."""
import os
import pickle
import sys
from contextlib import contextmanager

from ..compat import CorruptCheckpointError
from .hooks import NonFiniteLossError, PreflightError

# What bad configs, paths, data and checkpoints raise (our messages say what
# is wrong and what to do; MMEngine's registry prefixes the class it was
# building). Anything else is a bug and keeps its traceback.
USER_ERRORS = (OSError, ValueError, TypeError, KeyError,
               pickle.UnpicklingError, CorruptCheckpointError,
               NonFiniteLossError, PreflightError)
TRACEBACK_VARIABLE = 'MMCATKD_TRACEBACK'


@contextmanager
def user_errors_as_messages(tool: str):
    """Turn :data:`USER_ERRORS` raised in the block into ``SystemExit``.

    The process then exits with status 1 after printing ``tool: error:
    <message>`` and a hint; ``MMCATKD_TRACEBACK=1`` lets the exception
    through with its traceback.
    """
    try:
        yield
    except USER_ERRORS as err:
        if os.environ.get(TRACEBACK_VARIABLE, '') not in ('', '0'):
            raise
        # KeyError's str() is the repr of its argument: use the text itself.
        message = err.args[0] if (isinstance(err, KeyError)
                                  and err.args) else str(err)
        print(
            f'{tool}: error: {message}\n'
            f'({type(err).__name__}; set {TRACEBACK_VARIABLE}=1 for the '
            'traceback)',
            file=sys.stderr)
        raise SystemExit(1) from None
