"""`mmcatkd::FOLDER/CONFIG.py` in MMEngine once mmcatkd is imported, read
from mmcatkd/.mim/configs as MMEngine reads `mmpretrain::` configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmcatkd.compat import mmengine_packages
from mmcatkd.utils import load_config
from tests.conftest import DIGITS_CATKD_CONFIG, PROJECT_ROOT, run_python

LOCAL_CATKD = osp.join(PROJECT_ROOT, 'configs', DIGITS_CATKD_CONFIG)


def test_an_mmcatkd_base_reads_as_the_local_file(mim_folder, tmp_path):
    """`_base_ = ['mmcatkd::...']` in another project's config gives the
    config the file itself gives: same values, and no `_scope_='mmcatkd'`
    put on its dicts (mmcatkd has no registries of its own; the digits
    dataset is in MMPretrain's, found through default_scope)."""
    user_config = tmp_path / 'user.py'
    user_config.write_text(f"_base_ = ['mmcatkd::{DIGITS_CATKD_CONFIG}']\n"
                           "train_cfg = dict(max_iters=3)\n")
    cfg = Config.fromfile(str(user_config))
    local = Config.fromfile(LOCAL_CATKD)
    assert cfg.train_cfg.max_iters == 3
    del cfg.train_cfg['max_iters'], local.train_cfg['max_iters']
    assert cfg.to_dict() == local.to_dict()
    assert '_scope_' not in cfg.train_dataloader.dataset
    assert cfg.model._scope_ == 'mmrazor'


def test_load_config_reads_package_configs_and_names_bad_packages(mim_folder):
    """What tools/train.py and tools/test.py read: a path, or PACKAGE::..."""
    assert load_config(f'mmcatkd::{DIGITS_CATKD_CONFIG}').to_dict() == \
        Config.fromfile(LOCAL_CATKD).to_dict()
    assert load_config(LOCAL_CATKD).filename == LOCAL_CATKD
    with pytest.raises(
            ValueError, match="no configs of a package 'mmpretrian'"):
        load_config('mmpretrian::resnet/resnet18_8xb32_in1k.py')


def test_an_mmcatkd_without_mim_folder_says_to_install_it(
        monkeypatch, tmp_path):
    """A checkout used without `pip install` has no mmcatkd/.mim: one
    sentence saying how to get it, not MMEngine's missing-file error."""
    monkeypatch.setattr(mmengine_packages, 'PACKAGE_DIR', str(tmp_path))
    with pytest.raises(
            FileNotFoundError,
            match=r'has no \.mim folder.*pip install -e \.'):
        load_config(f'mmcatkd::{DIGITS_CATKD_CONFIG}')


def test_registration_is_idempotent_and_leaves_other_packages():
    """A second registration wraps nothing twice; other packages' paths
    are MMEngine's own lookup's answer."""
    import mmengine.config.config as mmengine_config
    from mmengine.utils import package_utils
    lookup = mmengine_config.get_installed_path
    get_cfg_path = mmengine_config.Config._get_cfg_path
    mmengine_packages.register_mmcatkd_configs()
    assert mmengine_config.get_installed_path is lookup
    assert mmengine_config.Config._get_cfg_path is get_cfg_path
    assert lookup('mmpretrain') == package_utils.get_installed_path(
        'mmpretrain')


@pytest.mark.slow
def test_mmpretrain_bases_resolve_without_mmcatkd(tmp_path):
    """With the pinned setuptools (it ships pkg_resources), MMEngine alone
    resolves `_base_ = 'mmpretrain::...'`: MMPretrain's tools need no
    mmcatkd before they read a config."""
    config = tmp_path / 'uses_mmpretrain_base.py'
    config.write_text("_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'\n"
                      'model = dict(head=dict(num_classes=7))\n')
    result = run_python(
        'import sys\n'
        'from mmengine.config import Config\n'
        f'cfg = Config.fromfile({str(config)!r})\n'
        "print(cfg.model.backbone.depth, cfg.model.head.num_classes, "
        "'mmcatkd' in sys.modules)\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ['18', '7', 'False']
