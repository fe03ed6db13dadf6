"""Student and teacher model configs, resolved as the algorithms build them."""
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.config import Config

from ...utils.errors import ConfigError, ConfigKeyError


def resolve_cfg_path(model: Any) -> Any:
    """Expand ``dict(cfg_path='path/to/model_config.py', **overrides)``.

    MMRazor resolves ``cfg_path`` only for installed packages
    (``'mmpretrain::resnet/resnet18_8xb32_in1k.py'``). This also accepts a
    local config file that defines ``model`` (and optionally
    ``data_preprocessor``), such as ``configs/_base_/models/cifar100/*.py``,
    so an experiment config can name a teacher and a student by their files
    (``'{{fileDirname}}/_base_/models/cifar100/resnet32x4.py'``). Other keys
    are merged into the loaded model config. Anything else is returned as is.
    """
    if (not isinstance(model, dict) or 'cfg_path' not in model
            or model.get('type') or '::' in model['cfg_path']):
        return model
    overrides = dict(model)
    path = overrides.pop('cfg_path')
    if overrides.pop('pretrained', False):
        raise ConfigError(
            f'pretrained=True is not supported for a local cfg_path ({path}): '
            'give the checkpoint as teacher_ckpt or load_from instead.')
    if not osp.isfile(path):
        raise FileNotFoundError(f'model config {path} does not exist.')
    cfg = Config.fromfile(path)
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
