"""A distillation never trains silently
against a random or mostly random teacher.

- ``teacher_ckpt=''`` is refused, ``None`` (random teacher, smoke tests)
  logs one warning;
- ``teacher_ckpt_strict=False`` warns with the counts of what is missing,
  and refuses when most of the teacher's weights would stay random;
- a directory is named as one, not as a missing file.
"""
import copy
import logging
import os.path as osp
import re
from contextlib import contextmanager

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS
from mmrazor.registry import MODELS as RAZOR_MODELS

from tests.reliability.helpers import CATKD, STUDENT

TEACHER = osp.join(osp.dirname(STUDENT), 'tiny_teacher.py')


def _catkd(**options) -> dict:
    model = copy.deepcopy(Config.fromfile(CATKD).model.to_dict())
    model.update(options)
    return model


@contextmanager
def _warnings():
    """The warning messages MMEngine's current logger receives."""
    messages = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope='module')
def teacher_state():
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(TEACHER).model).state_dict()


def _save(state: dict, path) -> str:
    torch.save(dict(state_dict=state), str(path))
    return str(path)


def test_empty_teacher_ckpt_is_refused():
    with pytest.raises(
            ValueError,
            match=re.escape(
                "teacher_ckpt is an empty string: give the trained teacher's "
                'checkpoint, or None for a random teacher')):
        RAZOR_MODELS.build(_catkd(teacher_ckpt=''))


def test_random_teacher_is_announced():
    with _warnings() as messages:
        RAZOR_MODELS.build(_catkd(teacher_ckpt=None))
    assert [m for m in messages if m.startswith('teacher_ckpt=None')] == [
        'teacher_ckpt=None: distilling from a teacher with random weights '
        '(smoke tests only); give teacher_ckpt for a real run.'
    ]


def test_directory_teacher_ckpt_is_named_a_directory(tmp_path):
    with pytest.raises(
            IsADirectoryError,
            match=re.escape(f'teacher_ckpt {tmp_path} is a '
                            'directory: give the checkpoint file')):
        RAZOR_MODELS.build(_catkd(teacher_ckpt=str(tmp_path)))


def test_non_strict_load_of_mostly_missing_weights_is_refused(
        teacher_state, tmp_path):
    """Only the head's weights (another model's checkpoint, in effect):
    refused with the counts, even with teacher_ckpt_strict=False."""
    head_only = {
        key: value
        for key, value in teacher_state.items() if key.startswith('head.')
    }
    path = _save(head_only, tmp_path / 'head_only.pth')
    with pytest.raises(ValueError) as info:
        RAZOR_MODELS.build(
            _catkd(teacher_ckpt=path, teacher_ckpt_strict=False))
    message = str(info.value)
    assert f'teacher_ckpt {path} leaves most of the teacher random' in message
    missing = len(teacher_state) - len(head_only)
    assert (f'{missing} of the teacher\'s {len(teacher_state)} tensors '
            'missing') in message


def test_non_strict_load_warns_with_the_counts(teacher_state, tmp_path):
    """A few tensors missing and one unexpected key: loaded, with one
    warning counting them; the loaded tensors are the checkpoint's."""
    partial = dict(teacher_state)
    dropped = sorted(key for key in partial if key.startswith('head.'))
    for key in dropped:
        del partial[key]
    partial['extra.weight'] = torch.zeros(1)
    path = _save(partial, tmp_path / 'partial.pth')
    with _warnings() as messages:
        model = RAZOR_MODELS.build(
            _catkd(teacher_ckpt=path, teacher_ckpt_strict=False))
    warning = [m for m in messages if m.startswith(f'teacher_ckpt {path}')]
    assert len(warning) == 1
    assert (f'{len(dropped)} of the teacher\'s {len(teacher_state)} tensors '
            'missing' in warning[0])
    assert "1 unexpected keys (e.g. ['extra.weight'])" in warning[0]
    key = next(
        key for key in partial
        if key.startswith('backbone.') and partial[key].is_floating_point())
    assert torch.equal(model.teacher.state_dict()[key], partial[key])
