"""Classifiers from a config and a checkpoint, for the tools.

A config is an MMPretrain classifier config or a distillation config
(``architecture`` the student, ``teacher`` the teacher, either given inline
or as ``dict(cfg_path=...)``). A distillation checkpoint holds the student
under ``architecture.`` and the teacher under ``teacher.``; a classifier
checkpoint (or an exported student) holds the weights without prefix.
Checkpoints are read through the safe (weights_only) loader and loaded
strictly: a mismatch is an error naming the differing keys.
"""
import copy
from typing import Optional, Tuple

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from torch import nn

from ..models.algorithms.model_cfg import (default_cls_preprocessor,
                                           resolve_cfg_path)
from ..utils import state_dict_differences, strip_data_parallel, strip_prefix
from ..utils.config import config_model
from ..utils.errors import ConfigError
from ..utils.mmengine_private import load_checkpoint_file

STUDENT_PREFIX = 'architecture.'
TEACHER_PREFIX = 'teacher.'


def build_classifier(model_cfg: dict,
                     data_preprocessor: Optional[dict] = None) -> nn.Module:
    """An MMPretrain classifier from its config (or a ``cfg_path`` dict);
    ``data_preprocessor`` is used when the model config has none (a
    distillation config may give it only at top level)."""
    model_cfg = copy.deepcopy(resolve_cfg_path(model_cfg))
    if data_preprocessor and 'data_preprocessor' not in model_cfg:
        model_cfg['data_preprocessor'] = dict(data_preprocessor)
    model_cfg['data_preprocessor'] = default_cls_preprocessor(
        model_cfg.get('data_preprocessor'))
    init_default_scope(model_cfg.pop('_scope_', 'mmpretrain'))
    return MODELS.build(model_cfg)


def load_weights(model: nn.Module,
                 path: str,
                 checkpoint: dict,
                 prefix: str = '') -> None:
    """Load the weights of ``checkpoint`` (read from ``path``) under
    ``prefix`` (``''``: all of them) into ``model``, strictly."""
    state = strip_data_parallel(checkpoint.get('state_dict', checkpoint))
    if prefix:
        state = strip_prefix(state, prefix)
        if not state:
            raise ConfigError(
                f'{path} holds no weights under "{prefix}": give the '
                'checkpoint of this distillation config, or the student\'s '
                'own config for an exported student.')
    elif strip_prefix(state, STUDENT_PREFIX):
        raise ConfigError(
            f'{path} is a distillation checkpoint (weights under '
            f'"{STUDENT_PREFIX}" and "{TEACHER_PREFIX}"): give it with its '
            'distillation config, or export the student first with '
            'tools/export_student.py.')
    missing, unexpected, reshaped = state_dict_differences(model, state)
    if missing or unexpected or reshaped:
        raise ConfigError(
            f'{path} does not match the model of its config: '
            f'{len(missing)} missing keys {missing[:3]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:3]}, {len(reshaped)} shape '
            f'mismatches {reshaped[:3]}. Give the config the checkpoint was '
            'trained with.')
    model.load_state_dict(state, strict=True)


def load_models(
    config: str,
    checkpoint: str,
    teacher_config: Optional[str] = None,
    teacher_checkpoint: Optional[str] = None,
    device: str = 'cpu'
) -> Tuple[nn.Module, Optional[nn.Module], Config, dict]:
    """The classifier (or the distillation student), the teacher or None,
    the config and the checkpoint, each model in eval mode on ``device``.

    The teacher is ``teacher_config`` with ``teacher_checkpoint``, else, for
    a distillation config whose checkpoint holds ``teacher.`` weights (a
    ``CATDistill`` checkpoint does), the config's teacher with those.
    """
    cfg = Config.fromfile(config)
    model_cfg = config_model(cfg).to_dict()
    preprocessor = model_cfg.get('data_preprocessor',
                                 cfg.get('data_preprocessor'))
    # any distillation algorithm (one teacher or several) names its student
    # `architecture`
    distill = 'architecture' in model_cfg
    student = build_classifier(
        model_cfg['architecture'] if distill else model_cfg, preprocessor)
    ckpt = load_checkpoint_file(checkpoint)
    load_weights(student, checkpoint, ckpt, STUDENT_PREFIX if distill else '')
    teacher = None
    if teacher_config:
        if not teacher_checkpoint:
            raise ConfigError('a teacher config needs its checkpoint too.')
        teacher_cfg = Config.fromfile(teacher_config)
        teacher = build_classifier(
            config_model(teacher_cfg).to_dict(),
            teacher_cfg.get('data_preprocessor'))
        load_weights(teacher, teacher_checkpoint,
                     load_checkpoint_file(teacher_checkpoint))
    elif distill and 'teacher' in model_cfg and strip_prefix(
            ckpt.get('state_dict', ckpt), TEACHER_PREFIX):
        teacher = build_classifier(model_cfg['teacher'], preprocessor)
        load_weights(teacher, checkpoint, ckpt, TEACHER_PREFIX)
    for model in (student, teacher):
        if model is not None:
            model.to(device).eval()
    return student, teacher, cfg, ckpt


def load_classifier(config: str,
                    checkpoint: str,
                    device: str = 'cpu') -> nn.Module:
    """The classifier of ``config`` (a distillation config: its student)
    with the weights of ``checkpoint``, in eval mode on ``device``."""
    return load_models(config, checkpoint, device=device)[0]
