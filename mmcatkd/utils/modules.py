"""Finding a submodule by the dotted name a config gives."""
from torch import nn

from .errors import ConfigError


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name`` (dotted path), with a clear error."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        raise ConfigError(
            f'{type(model).__name__} has no submodule "{name}".') from None
