"""The own-pair example of docs/your_own_pair.md: MMPretrain's packaged
ResNet-50 and ResNet-18 on an image folder. The class count set once in the
data config reaches both models (through ``cfg_path`` overrides), the
teacher is the file the teacher config's run leaves, the CAT options are
the documented ones, and the packaged heads give exact CAMs."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from tests.conftest import PROJECT_ROOT

CATKD = 'configs/catkd/catkd_resnet50_resnet18_8xb32_custom-folder.py'
TEACHER = 'configs/vanilla/resnet50_8xb32_custom-folder.py'
STUDENT = 'configs/vanilla/resnet18_8xb32_custom-folder.py'
DATA = 'configs/_base_/datasets/custom_folder_bs32.py'


def _cfg(path, options=None):
    """The config, with ``--cfg-options``-style overrides."""
    cfg = Config.fromfile(osp.join(PROJECT_ROOT, path))
    cfg.merge_from_dict(options or {})
    return cfg


def _num_classes():
    return Config.fromfile(osp.join(PROJECT_ROOT, DATA)).num_classes


def test_the_class_count_of_the_data_config_reaches_both_models():
    """``head=dict(num_classes=...)`` beside ``cfg_path='mmpretrain::...'``
    changes the packaged model's class count (MMRazor alone would keep
    1000), and the teacher and student-alone configs use the same count."""
    num_classes = _num_classes()
    assert num_classes != 1000
    cfg = _cfg(CATKD)
    for role in ('architecture', 'teacher'):
        model = resolve_cfg_path(cfg.model[role].to_dict())
        assert model['type'] == 'ImageClassifier', role
        assert model['head']['num_classes'] == num_classes, role
    assert cfg.data_preprocessor.num_classes == num_classes
    for path in (TEACHER, STUDENT):
        assert _cfg(path).model.head.num_classes == num_classes, path


def test_the_cat_options_are_the_documented_ones():
    """Unnormalised 2x2 maps, beta measured by CATAutoBetaHook, the teacher
    read from where the documented cp puts the teacher config's
    checkpoint, and MMRazor's loop validating student and teacher."""
    cfg = _cfg(CATKD)
    cat_loss = cfg.model.distiller.cat_loss
    assert (cat_loss.loss_weight, cat_loss.resolution,
            cat_loss.normalize) == ('auto', 2, False)
    assert [hook.type for hook in cfg.custom_hooks] == ['CATAutoBetaHook']
    teacher_run = _cfg(TEACHER).work_dir
    assert cfg.model.teacher_ckpt == osp.normpath(teacher_run) + '.pth'
    assert cfg.val_cfg.type == 'mmrazor.SingleTeacherDistillValLoop'


@pytest.mark.slow  # builds a ResNet-50 and a ResNet-18
def test_the_packaged_heads_give_exact_cams():
    """The built student and teacher have the data config's classes, and
    their logits equal GAP(CAM) + bias with CAM_k = sum_c w_kc f_c computed
    here from the fc weights and the backbone's last map (paper Eq. 2-3)."""
    from mmrazor.registry import MODELS
    cfg = _cfg(CATKD, {
        'model.teacher_ckpt': None,
        'model.architecture.backbone.init_cfg': None
    })
    model_cfg = cfg.model.to_dict()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    with DefaultScope.overwrite_default_scope('mmrazor'):
        algorithm = MODELS.build(model_cfg).eval()
    images = torch.randn(
        2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for model in (algorithm.student, algorithm.teacher):
        fc = model.head.fc
        assert fc.out_features == _num_classes()
        with torch.no_grad():
            feat = model.backbone(images)[-1]  # (N, C, H, W)
            logits = model.head(model.neck((feat, )))
        cams = torch.einsum('kc,nchw->nkhw', fc.weight, feat)
        expected = cams.mean(dim=(2, 3)) + fc.bias
        torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)
