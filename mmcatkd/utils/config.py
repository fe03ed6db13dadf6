"""Config files given by path or as ``PACKAGE::FOLDER/NAME.py``, and what
every config a tool reads must hold."""
from mmengine.config import Config, ConfigDict

from .errors import ConfigError, ConfigKeyError


def load_config(path: str) -> Config:
    """A config file, or one that an installed OpenMMLab package ships,
    named as in ``_base_`` (``'mmpretrain::resnet/resnet18_8xb32_in1k.py'``,
    ``'mmcatkd::FOLDER/NAME.py'``).

    Raises:
        ConfigError: ``PACKAGE::`` names a package MMEngine cannot read
            configs from (one sentence listing those it can).
    """
    if '::' not in path:
        return Config.fromfile(path)
    from mmengine.config.utils import MODULE2PACKAGE
    from mmengine.hub import get_config
    package = path.split('::', 1)[0]
    if package not in MODULE2PACKAGE:
        raise ConfigError(
            f'{path}: MMEngine reads no configs of a package {package!r}; '
            'give a config file or PACKAGE::FOLDER/NAME.py with PACKAGE one '
            f'of {", ".join(sorted(MODULE2PACKAGE))}.')
    return get_config(path)


def config_model(cfg: Config) -> ConfigDict:
    """``cfg.model``, or :class:`ConfigKeyError` naming the config file
    when it defines no model (MMEngine says only ``KeyError: 'model'``)."""
    if not cfg.get('model'):
        raise ConfigKeyError(
            f'{cfg.filename or "the config"} defines no `model`: give a '
            "config that does (model = dict(type='ImageClassifier', ...) or "
            'a distillation algorithm), directly or through _base_.')
    return cfg.model
