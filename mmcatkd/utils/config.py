"""What every config a tool reads must hold."""
from mmengine.config import Config, ConfigDict

from .errors import ConfigKeyError


def config_model(cfg: Config) -> ConfigDict:
    """``cfg.model``, or :class:`ConfigKeyError` naming the config file
    when it defines no model (MMEngine says only ``KeyError: 'model'``)."""
    if not cfg.get('model'):
        raise ConfigKeyError(
            f'{cfg.filename or "the config"} defines no `model`: give a '
            "config that does (model = dict(type='ImageClassifier', ...) or "
            'a distillation algorithm), directly or through _base_.')
    return cfg.model
