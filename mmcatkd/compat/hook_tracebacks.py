"""MMEngine 0.10.7's Runner.call_hook replaces a hook's TypeError by a new
one from None, losing its traceback (a bug in a custom hook or loss) and its
type (mmcatkd's ConfigTypeError); the original is re-raised with a note
naming the hook.

For: MMEngine 0.10.7, whose ``Runner.call_hook`` catches a ``TypeError``
from any hook and raises ``TypeError(f'{e} in {hook}') from None``.

Symptom without it: a bug in a custom hook, or in a custom loss that
mmcatkd's ``PreflightCheckHook`` runs before the first step, ends in a
traceback down to ``call_hook`` only, without the file and line that
failed; a ``ConfigTypeError`` raised by a hook (a user's mistake) becomes a
plain ``TypeError``, so the tools print a traceback instead of its
sentence.

Detection, and how to tell it can go: :func:`runner_hides_hook_tracebacks`
calls ``Runner.call_hook`` with a hook raising a ``TypeError`` and checks
whether the same exception comes out. Where it does, :func:`apply` does
nothing and this module can be deleted.
"""
import types

NAME = 'hook-tracebacks'


class _RaisesTypeError:
    """A hook whose ``probe`` method raises the error it is given."""

    def __init__(self, error: TypeError) -> None:
        self.error = error

    def probe(self, runner) -> None:
        raise self.error


def runner_hides_hook_tracebacks() -> bool:
    """Whether ``Runner.call_hook`` replaces a hook's ``TypeError`` by a new
    one (MMEngine 0.10.7 does, ``from None``)."""
    from mmengine.runner import Runner
    error = TypeError('probe')
    runner = types.SimpleNamespace(_hooks=[_RaisesTypeError(error)])
    try:
        Runner.call_hook(runner, 'probe')
    except TypeError as raised:
        return raised is not error
    return False


def apply() -> bool:
    """Make ``Runner.call_hook`` let a hook's exceptions through unchanged
    (with a note naming the hook) where it hides them; whether it did."""
    if not runner_hides_hook_tracebacks():
        return False
    from mmengine.runner import Runner

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """Call ``fn_name`` of every hook that has it (MMEngine's
        ``Runner.call_hook``, without re-raising TypeErrors)."""
        for hook in self._hooks:
            if hasattr(hook, fn_name):
                try:
                    getattr(hook, fn_name)(self, **kwargs)
                except TypeError as err:
                    if hasattr(err, 'add_note'):  # Python >= 3.11
                        err.add_note(f'(in {type(hook).__name__}.{fn_name})')
                    raise

    Runner.call_hook = call_hook
    return True
