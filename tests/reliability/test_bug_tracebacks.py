"""A bug in a researcher's custom module keeps its traceback through
tools/train.py, at the preflight check and at a later iteration; a user's
mistake still ends in one sentence.

The custom loss lives in a temporary folder and reaches the run through
``custom_imports``, as a user's own module does.
"""
import os
import os.path as osp

import pytest

from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import CATKD, child_env, run_tool, train_args

pytestmark = pytest.mark.slow

BUGGY_LOSS = '''\
from mmrazor.registry import MODELS

from mmcatkd.models.losses import CATLoss


@MODELS.register_module()
class BuggyCATLoss(CATLoss):
    """CATLoss with a bug that shows at its call number ``fail_at``."""

    def __init__(self, fail_at=1, **kwargs):
        super().__init__(**kwargs)
        self.fail_at = fail_at
        self.calls = 0

    def forward(self, cams_S, cams_T):
        self.calls += 1
        if self.calls == self.fail_at:
            raise TypeError('a bug in BuggyCATLoss')
        return super().forward(cams_S, cams_T)
'''
RAISE_LINE = BUGGY_LOSS.splitlines().index(
    "            raise TypeError('a bug in BuggyCATLoss')") + 1


def _buggy_run(folder, image_folder, fail_at):  # noqa: F811
    """tools/train.py on catkd_tiny with BuggyCATLoss failing at call
    ``fail_at`` (call 1 is the preflight check, call N + 1 iteration N)."""
    module = osp.join(folder, 'buggy_loss.py')
    with open(module, 'w') as f:
        f.write(BUGGY_LOSS)
    config = osp.join(folder, 'buggy.py')
    with open(config, 'w') as f:
        f.write(
            f'_base_ = [{CATKD!r}]\n'
            "custom_imports = dict(imports=['mmcatkd', 'buggy_loss'], "
            'allow_failed_imports=False)\n'
            "model = dict(distiller=dict(cat_loss=dict(type='BuggyCATLoss',"  # noqa: E501
            f' fail_at={fail_at})))\n')
    env = child_env()
    env['PYTHONPATH'] = folder + os.pathsep + env['PYTHONPATH']
    env.pop('MMCATKD_TRACEBACK', None)
    work_dir = osp.join(folder, 'work')
    return run_tool(
        'train',
        *train_args(config, work_dir, image_folder, 'train_cfg.max_epochs=1'),
        env=env), module, work_dir


@pytest.mark.parametrize('fail_at', [1, 3], ids=['preflight', 'iteration2'])
def test_custom_loss_bug_shows_its_traceback(tmp_path, image_folder,
                                             fail_at):  # noqa: F811
    """The TypeError leaves train.py with the traceback down to the file
    and line of the raise, not as ``train.py: error: ...`` (at the
    preflight check it was cut to a PreflightError sentence with no file or
    line); the preflight check adds a note saying where it ran."""
    result, module, work_dir = _buggy_run(str(tmp_path), image_folder, fail_at)
    assert result.returncode == 1
    stderr = result.stderr
    assert 'Traceback (most recent call last)' in stderr
    assert f'File "{module}", line {RAISE_LINE}, in forward' in stderr
    assert 'TypeError: a bug in BuggyCATLoss' in stderr
    assert 'train.py: error:' not in stderr
    assert 'PreflightError' not in stderr
    note = ("(raised by mmcatkd's preflight check: the training loss on the "
            'first training sample, input 3x32x32, in eval mode, before the '
            'first training step)')
    assert (note in stderr) == (fail_at == 1)
    if fail_at == 3:  # iteration 1 trained, iteration 2 failed
        log = open(
            next(
                osp.join(root, name) for root, _, names in os.walk(work_dir)
                for name in names if name.endswith('.log'))).read()
        assert 'Epoch(train) [1][1/6]' in log
        assert 'Epoch(train) [1][2/6]' not in log


def test_user_mistake_in_the_same_run_is_one_sentence(
        tmp_path, image_folder):  # noqa: F811
    """The control: the custom loss given an option it does not take (its
    ``**kwargs`` pass it on to CATLoss) ends in one sentence naming the
    option and the class the config builds (no traceback)."""
    result, _, _ = _buggy_run(str(tmp_path), image_folder, '1, fail_after=2')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert ("train.py: error: CATLoss.__init__() got an unexpected "
            "keyword argument 'fail_after': check the options given to "
            'BuggyCATLoss in the config.') in result.stderr
