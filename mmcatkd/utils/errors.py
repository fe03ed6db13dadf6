"""The exceptions mmcatkd raises for a user's mistake.

A tool ends such an error with its message alone, one sentence that says
what is wrong and what to do (``mmcatkd.engine.cli``); every other
exception is a bug, ours or in a user's custom module, and keeps its
traceback. So a check of a config value, an argument, a file's contents or
a model the user chose raises a subclass of :class:`UserError`, never a
bare ``ValueError``: a ``ValueError`` from a custom loss must not look like
advice.

Each subclass also derives from the built-in exception the check would
raise otherwise, so ``except ValueError`` (and ``pytest.raises``) in code
that calls mmcatkd keep working.
"""


class UserError(Exception):
    """Bad input the user can fix; the message is the whole report."""


class ConfigError(UserError, ValueError):
    """A config value, argument or input that cannot work."""


class ConfigTypeError(UserError, TypeError):
    """A value or model of the wrong kind for what the config asks."""


class ConfigKeyError(UserError, KeyError):
    """A name the config or the data lacks (an option, a loss, a key)."""

    def __str__(self) -> str:
        # KeyError's str() is the repr of its argument: keep the sentence.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class ConfigIndexError(UserError, IndexError):
    """An index (a stage, a layer) outside what the model has."""


class MissingHookError(UserError, RuntimeError):
    """The model needs a hook the config does not list."""


class NoSpaceError(UserError, OSError):
    """Not enough free disk space for what a tool is about to write."""


class DownloadError(UserError, ConnectionError):
    """A file (a checkpoint URL) could not be downloaded."""
