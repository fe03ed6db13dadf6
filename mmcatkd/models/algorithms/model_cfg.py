"""Student and teacher model configs, resolved as the algorithms build them."""
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config

from ...utils import load_config
from ...utils.errors import ConfigError, ConfigKeyError
from ..classifiers.timm_classifier import TIMM_SCHEME, timm_model_cfg


def resolve_cfg_path(model: Any) -> Any:
    """Expand ``dict(cfg_path=CONFIG, **overrides)`` into a model config.

    ``CONFIG`` is a config file that defines ``model`` (and optionally
    ``data_preprocessor``), such as ``configs/_base_/models/cifar100/*.py``
    (``'{{fileDirname}}/_base_/models/cifar100/resnet32x4.py'`` in an
    experiment config), or one an installed package ships
    (``'mmpretrain::resnet/resnet18_8xb32_in1k.py'``, ``'mmcatkd::...'``).
    The other keys are merged into the loaded model config, so
    ``head=dict(num_classes=3)`` changes the class count. (MMRazor would
    build a package's config with them as ``default_args``, which only
    fill missing keys, so such overrides would be dropped.) With
    ``pretrained=True`` and nothing else, the config of a package with
    published weights is left to MMRazor, which loads the weights its
    metafile names. ``'timm://ARCH.TAG'`` (or ``dict(cfg_path=
    'timm://ARCH.TAG', **overrides)``) is a timm model with timm's
    pretrained weights (:func:`~mmcatkd.models.classifiers.timm_model_cfg`;
    ``pretrained=False`` for random ones). Anything else is returned as is.
    """
    if isinstance(model, str) and model.startswith(TIMM_SCHEME):
        return timm_model_cfg(model)
    if (not isinstance(model, dict) or 'cfg_path' not in model
            or model.get('type')):
        return model
    overrides = dict(model)
    path = overrides.pop('cfg_path')
    if path.startswith(TIMM_SCHEME):
        return timm_model_cfg(path, **overrides)
    if overrides.pop('pretrained', False):
        package = path.split('::')[0] if '::' in path else None
        if package not in (None, 'mmcatkd') and not overrides:
            return model  # MMRazor loads the weights of its metafile
        raise ConfigError(
            'pretrained=True needs the cfg_path of a package with published '
            f'weights and no other keys (got {path} with '
            f'{sorted(overrides) or "no others"}): give the checkpoint as '
            'teacher_ckpt or load_from instead.')
    if '::' not in path and not osp.isfile(path):
        raise FileNotFoundError(f'model config {path} does not exist.')
    cfg = load_config(path)
    if 'model' not in cfg:
        raise ConfigKeyError(f'{path} defines no `model`.')
    model_cfg = cfg.model.to_dict()
    if 'data_preprocessor' in cfg:
        model_cfg.setdefault('data_preprocessor',
                             cfg.data_preprocessor.to_dict())
    model_cfg.setdefault('_scope_', cfg.get('default_scope', 'mmpretrain'))
    merged = Config(dict(model=model_cfg))
    merged.merge_from_dict(dict(model=overrides))
    return merged.model.to_dict()


def default_cls_preprocessor(preprocessor: Optional[Any]) -> Optional[Any]:
    """A ``data_preprocessor`` dict without ``type`` made an MMPretrain
    ``ClsDataPreprocessor``, as MMPretrain's ``ImageClassifier`` does for the
    bare top-level ``data_preprocessor`` MMEngine's Runner passes; anything
    else as is."""
    if isinstance(preprocessor, dict) and 'type' not in preprocessor:
        return dict(preprocessor, type='mmpretrain.ClsDataPreprocessor')
    return preprocessor


def algorithm_kwargs(kwargs: Dict) -> Dict:
    """``kwargs`` of an algorithm with its student (``architecture``)
    resolved by :func:`resolve_cfg_path` and its ``data_preprocessor`` by
    :func:`default_cls_preprocessor`."""
    if 'architecture' in kwargs:
        kwargs['architecture'] = resolve_cfg_path(kwargs['architecture'])
    kwargs['data_preprocessor'] = default_cls_preprocessor(
        kwargs.get('data_preprocessor'))
    return kwargs
