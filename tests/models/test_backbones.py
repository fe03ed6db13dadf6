"""Model-zoo backbones and their base model configs (CRD/MDistiller CIFAR
family, ImageNet ResNets and MobileNetV1)."""
import glob
import os.path as osp

import pytest
import torch
import torchvision
from mmpretrain.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

import mmcatkd  # noqa: F401  (registers the backbones; compat first)
from mmcatkd.converters import build_model
from tests.conftest import PROJECT_ROOT  # noqa: E402
from tests.conftest import GOLDEN_SUBSET, golden_params

MODEL_CONFIGS = osp.join(PROJECT_ROOT, 'configs', '_base_', 'models')

# Parameter counts of the reference architectures, classifier (with bias)
# included, where they are not read off a golden checkpoint or torchvision:
# published totals for the CAT-KD teachers/students, and for resnet32,
# resnet110, wrn_40_1 and ResNet50 the count of MDistiller's definitions
# (mdistiller/models/cifar/resnet.py, wrn.py, resnetv2.py).
# Model configs that are not CAT-KD's CNNs: the CAKD ViT-B/16 teacher (built
# and stepped by tests/configs and tests/models/test_cakd.py).
NOT_CAM_MODELS = {'imagenet/vit_base_p16'}

REFERENCE_PARAMS = {
    'cifar100/resnet8x4': 1_233_540,
    'cifar100/resnet32x4': 7_433_860,
    'cifar100/resnet56': 861_620,
    'cifar100/wrn_40_2': 2_255_156,
    'cifar100/vgg13': 9_462_180,
    'cifar100/shufflenetv1': 949_258,
    'imagenet/mobilenetv1': 4_231_976,
    'cifar100/resnet32': 472_756,
    'cifar100/resnet110': 1_736_564,
    'cifar100/wrn_40_1': 569_780,
    'cifar100/resnet50': 23_705_252,
}
GOLDEN_OF_CONFIG = {
    'cifar100/resnet20': 'resnet20',
    'cifar100/wrn_16_2': 'wrn_16_2',
    'cifar100/vgg8': 'vgg8',
    'cifar100/mobilenetv2': 'mobilenetv2',
    'cifar100/shufflenetv2': 'shufflev2',
}
TORCHVISION_OF_CONFIG = {
    'imagenet/resnet18': 'resnet18',
    'imagenet/resnet34': 'resnet34',
    'imagenet/resnet50': 'resnet50',
}

# The map the reference classifier average-pools, (C, H, W) at 32 px for
# CIFAR and 224 px for ImageNet.
POOLED_MAP = {
    'cifar100/resnet20': (64, 8, 8),
    'cifar100/resnet32': (64, 8, 8),
    'cifar100/resnet56': (64, 8, 8),
    'cifar100/resnet110': (64, 8, 8),
    'cifar100/resnet8x4': (256, 8, 8),
    'cifar100/resnet32x4': (256, 8, 8),
    'cifar100/resnet50': (2048, 4, 4),
    'cifar100/wrn_16_2': (128, 8, 8),
    'cifar100/wrn_40_1': (64, 8, 8),
    'cifar100/wrn_40_2': (128, 8, 8),
    'cifar100/vgg8': (512, 4, 4),
    'cifar100/vgg13': (512, 4, 4),
    'cifar100/mobilenetv2': (1280, 2, 2),
    'cifar100/shufflenetv1': (960, 4, 4),
    'cifar100/shufflenetv2': (1024, 4, 4),
    'imagenet/resnet18': (512, 7, 7),
    'imagenet/resnet34': (512, 7, 7),
    'imagenet/resnet50': (2048, 7, 7),
    'imagenet/mobilenetv1': (1024, 7, 7),
}

BUFFER_SUFFIXES = ('running_mean', 'running_var', 'num_batches_tracked')


def config_path(name: str) -> str:
    return osp.join(MODEL_CONFIGS, f'{name}.py')


def golden_checkpoint(root: str, name: str) -> str:
    """The reference model of config ``name`` in a golden set."""
    return osp.join(root, 'reference_models', f'{GOLDEN_OF_CONFIG[name]}.pth')


def golden_model_configs(root: str) -> list:
    """The configs of GOLDEN_OF_CONFIG whose reference model the golden set
    at ``root`` has (the full set has every one)."""
    return [
        name for name in GOLDEN_OF_CONFIG
        if root != GOLDEN_SUBSET or osp.isfile(golden_checkpoint(root, name))
    ]


def golden_param_count(root: str, name: str) -> int:
    """Parameters of the reference checkpoint of config ``name``."""
    state = torch.load(
        golden_checkpoint(root, name), map_location='cpu',
        weights_only=True)['model']
    return sum(value.numel() for key, value in state.items()
               if not key.endswith(BUFFER_SUFFIXES))


def reference_param_count(name: str) -> int:
    """Parameters of the reference architecture of config ``name``, where
    it is not a golden checkpoint (see :func:`golden_param_count`)."""
    if name in TORCHVISION_OF_CONFIG:
        with torch.device('meta'):  # shapes only, no allocation or init
            reference = getattr(torchvision.models,
                                TORCHVISION_OF_CONFIG[name])(
                                    weights=None)
        return sum(p.numel() for p in reference.parameters())
    return REFERENCE_PARAMS[name]


def test_every_base_model_config_has_a_reference():
    """Each config in configs/_base_/models is covered by the tests below."""
    found = {
        osp.relpath(path, MODEL_CONFIGS)[:-len('.py')]
        for path in glob.glob(osp.join(MODEL_CONFIGS, '*', '*.py'))
    } - NOT_CAM_MODELS
    assert found == set(POOLED_MAP)
    assert found == (
        set(REFERENCE_PARAMS) | set(GOLDEN_OF_CONFIG)
        | set(TORCHVISION_OF_CONFIG))


@pytest.mark.parametrize('name', sorted(POOLED_MAP))
def test_config_model_matches_reference_architecture(name):
    """The config's model has the reference architecture's parameter count
    (that of a golden checkpoint: the test below) and BN settings (PyTorch's
    eps 1e-5, momentum 0.1), its backbone's last output is the map the
    reference classifier pools (the one CAT-KD's CAMs come from) and the
    head classifies it."""
    model = build_model(config_path(name)).eval()
    if name not in GOLDEN_OF_CONFIG:
        assert sum(p.numel() for p in model.parameters()) == \
            reference_param_count(name)
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all((m.eps, m.momentum) == (1e-5, 0.1) for m in norms)

    size = 224 if name.startswith('imagenet/') else 32
    num_classes = model.head.num_classes
    # One 224 px image keeps the ImageNet nets cheap; two 32 px for CIFAR.
    inputs = torch.randn(1 if size == 224 else 2, 3, size, size)
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        logits = model.head(feats)
    assert feats[-1].shape == (inputs.shape[0], *POOLED_MAP[name])
    assert model.head.fc.in_features == POOLED_MAP[name][0]
    assert logits.shape == (inputs.shape[0], num_classes)
    assert num_classes == (1000 if size == 224 else 100)


@pytest.mark.parametrize('root, name', golden_params(golden_model_configs))
def test_config_model_has_the_golden_checkpoints_parameter_count(root, name):
    """The config's model has as many parameters as the reference
    (MDistiller) checkpoint of its architecture, BN buffers aside: the
    compact subset's always, all of the full set's where it is present."""
    model = build_model(config_path(name))
    assert sum(p.numel() for p in model.parameters()) == \
        golden_param_count(root, name)


# Shapes of every stage output (C, H, W), as the reference's feature maps.
STAGE_MAPS = {
    ('CIFARResNet', 'resnet8x4'): [(64, 32, 32), (128, 16, 16), (256, 8, 8)],
    ('CIFARWideResNet', 'wrn_16_2'): [(32, 32, 32), (64, 16, 16), (128, 8, 8)],
    ('CIFARVGG', 'vgg8'): [(64, 32, 32), (128, 16, 16), (256, 8, 8),
                           (512, 4, 4), (512, 4, 4)],
    ('CIFARMobileNetV2', 'mobile_half'): [(8, 16, 16),
                                          (12, 16, 16), (16, 8, 8), (32, 4, 4),
                                          (48, 4, 4), (80, 2, 2), (160, 2, 2),
                                          (1280, 2, 2)],
    ('CIFARShuffleNetV1', 'g3'): [(240, 16, 16), (480, 8, 8), (960, 4, 4)],
    ('CIFARShuffleNetV2', '1.0x'): [(116, 16, 16), (232, 8, 8), (464, 4, 4),
                                    (1024, 4, 4)],
    ('MobileNetV1', '1.0x'): [(128, 56, 56), (256, 28, 28), (512, 14, 14),
                              (1024, 7, 7)],
}


@pytest.mark.parametrize('backbone_type,arch', sorted(STAGE_MAPS))
def test_all_stage_outputs_are_reference_maps(backbone_type, arch):
    """``out_indices`` over all stages returns the reference's feature maps in
    order, and each equals that stage requested alone: no later in-place
    operation alters an earlier output that a distiller records."""
    expected = STAGE_MAPS[(backbone_type, arch)]
    backbone = MODELS.build(
        dict(
            type=backbone_type,
            arch=arch,
            out_indices=tuple(range(len(expected)))))
    backbone.eval()
    size = 224 if backbone_type == 'MobileNetV1' else 32
    inputs = torch.randn(1, 3, size, size)
    with torch.no_grad():
        outs = backbone(inputs)
        assert [tuple(out.shape[1:]) for out in outs] == expected
        for index, out in enumerate(outs):
            backbone.out_indices = (index, )
            torch.testing.assert_close(backbone(inputs)[0], out)


@pytest.mark.parametrize('name', [
    'CIFARResNet', 'CIFARWideResNet', 'CIFARVGG', 'CIFARMobileNetV2',
    'CIFARShuffleNetV1', 'CIFARShuffleNetV2', 'MobileNetV1'
])
def test_registered_names_resolve_to_mmcatkd(name):
    """The names configs use resolve to mmcatkd's classes in MMPretrain's
    registry, not to an MMPretrain class of the same name."""
    assert MODELS.get(name).__module__.startswith('mmcatkd.models.backbones')


def test_bad_arch_or_out_indices_fail_with_the_choices():
    """An unknown arch names the valid ones; an out-of-range stage index
    says how many stages there are."""
    with pytest.raises(KeyError, match="'resnet20'"):
        MODELS.build(dict(type='CIFARResNet', arch='resnet18'))
    with pytest.raises(IndexError, match='3 stages'):
        MODELS.build(dict(type='CIFARResNet', arch='resnet20', out_indices=3))
