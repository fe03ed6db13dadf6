"""Top-level config keys that nothing reads: a misspelling of a key the
Runner reads is refused naming that key, any other unread key of the
config itself is a warning naming it, helper variables say nothing."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmcatkd.engine.config_keys import check_config_keys
from tests.conftest import PROJECT_ROOT

BASE = """
train_pipeline = [dict(type='PackInputs')]
unused_pipeline = [dict(type='RandomFlip', prob=0.5)]
model = dict(type='ImageClassifier')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
"""


def _config(tmp_path, text: str, base: str = BASE) -> Config:
    (tmp_path / 'base.py').write_text(base)
    path = tmp_path / 'config.py'
    path.write_text("_base_ = ['./base.py']\n" + text)
    return Config.fromfile(str(path))


def test_misspelt_runner_key_is_refused_naming_the_key(tmp_path):
    cfg = _config(tmp_path, 'trian_cfg = dict(max_iters=2)\n')
    with pytest.raises(ValueError) as info:
        check_config_keys(cfg)
    message = str(info.value)
    assert message.startswith(f'{cfg.filename}: unknown top-level key ')
    assert "'trian_cfg' (did you mean 'train_cfg'?)" in message
    assert '\n' not in message


def test_every_misspelling_is_named_in_one_sentence(tmp_path):
    cfg = _config(tmp_path, 'default_hook = dict()\nrandomnes = dict()\n')
    with pytest.raises(ValueError) as info:
        check_config_keys(cfg)
    assert ("keys 'default_hook' (did you mean 'default_hooks'?), "
            "'randomnes' (did you mean 'randomness'?)") in str(info.value)


def test_misspelling_given_by_cfg_options_is_refused(tmp_path):
    cfg = _config(tmp_path, '')
    cfg.merge_from_dict({'val_evalutor.type': 'Accuracy'})
    with pytest.raises(
            ValueError,
            match="'val_evalutor' \\(did you mean "
            "'val_evaluator'\\?\\)"):
        check_config_keys(cfg)


def test_an_unrelated_custom_key_only_warns(tmp_path):
    cfg = _config(tmp_path, 'my_project_setting = 3\nseed = 0\n')
    assert check_config_keys(cfg) == [
        f"{cfg.filename}: top-level key '{key}' is read neither by "
        "MMEngine's Runner nor by mmcatkd, nor used in another key: it has "
        'no effect unless other code reads it.'
        for key in ('my_project_setting', 'seed')
    ]


def test_helper_variables_say_nothing(tmp_path):
    """A variable the config reads (also as `{{_base_.NAME}}`), one only a
    base file defines, and the same config dumped flat by the Runner."""
    cfg = _config(
        tmp_path, 'head = dict(num_classes=10)\n'
        'model = dict(head=head)\n'
        'val_dataloader = dict(\n'
        '    dataset=dict(pipeline={{_base_.unused_pipeline}}))\n')
    assert check_config_keys(cfg) == []
    assert check_config_keys(_config(tmp_path, '')) == []
    dumped = tmp_path / 'dumped.py'
    dumped.write_text(
        _config(
            tmp_path, 'extra = [dict(type="Resize", scale=32)]\n'
            'val_dataloader = dict(dataset=dict(\n'
            '    pipeline=extra + [dict(type="PackInputs")]))\n').pretty_text)
    assert check_config_keys(Config.fromfile(str(dumped))) == [
        f"{dumped}: top-level key 'unused_pipeline' is read neither by "
        "MMEngine's Runner nor by mmcatkd, nor used in another key: it has "
        'no effect unless other code reads it.'
    ]


@pytest.mark.slow
def test_shipped_configs_have_no_unread_keys():
    """Every config under configs/ passes the check without a warning
    (about 100 configs, a few seconds)."""
    paths = [
        path for path in glob.glob(
            osp.join(PROJECT_ROOT, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in path.split(osp.sep)
    ]
    assert len(paths) > 50
    for path in paths:
        assert check_config_keys(Config.fromfile(path)) == [], path
