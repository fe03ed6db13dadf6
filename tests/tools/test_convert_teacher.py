"""tools/convert_teacher.py and mmcatkd.converters.teacher.

Torchvision has no MobileNetV1, so the torchvision path is checked on its
ResNets; the ImageNet MobileNetV1 is checked through its golden MDistiller
checkpoint.
"""
import glob
import os.path as osp
from collections import OrderedDict

import pytest
import torch
import torchvision
from mmengine.runner import load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm

from mmcatkd.cli import convert_teacher as convert_teacher_tool
from mmcatkd.converters import (UnmappedKeysError, build_model,
                                convert_teacher, load_source_state_dict,
                                map_state_dict, teacher)
from mmcatkd.utils.checkpoint import UnsafeCheckpointError
from tests.conftest import PROJECT_ROOT  # noqa: E402
from tests.conftest import GOLDEN, GOLDEN_SUBSET, golden_params

MODEL_CONFIGS = osp.join(PROJECT_ROOT, 'configs', '_base_', 'models')

# golden reference model -> the mmcatkd config of the same architecture
GOLDEN_CONFIGS = {
    'resnet20': 'cifar100/resnet20',
    'resnet8x4': 'cifar100/resnet8x4',
    'wrn_16_2': 'cifar100/wrn_16_2',
    'shufflev1': 'cifar100/shufflenetv1',
    'shufflev2': 'cifar100/shufflenetv2',
    'mobilenetv2': 'cifar100/mobilenetv2',
    'vgg8': 'cifar100/vgg8',
    'mobilenetv1': 'imagenet/mobilenetv1',
}


def config_path(name: str) -> str:
    return osp.join(MODEL_CONFIGS, f'{name}.py')


def golden(name: str, root: str = GOLDEN_SUBSET) -> str:
    """``reference_models/<name>.pth`` of a golden set (the compact subset
    in the repository unless ``root`` says otherwise)."""
    return osp.join(root, 'reference_models', f'{name}.pth')


def golden_models(root: str) -> set:
    """Names of the reference models of a golden set."""
    return {
        osp.basename(path)[:-len('.pth')]
        for path in glob.glob(osp.join(root, 'reference_models', '*.pth'))
        if not path.endswith('_io.pth')
    }


def load_converted(config: str, checkpoint: str) -> torch.nn.Module:
    model = build_model(config_path(config))
    load_checkpoint(model, checkpoint, strict=True, logger='silent')
    model.eval()
    return model


def load_cli():
    return convert_teacher_tool


def test_every_golden_model_of_the_subset_has_a_config():
    """The compact subset's reference models are some of the full set's."""
    assert golden_models(GOLDEN_SUBSET) < set(GOLDEN_CONFIGS)


@pytest.mark.golden_full
def test_every_golden_model_has_a_config():
    """Each golden reference model is covered by the equivalence test (a new
    golden file cannot be skipped silently)."""
    assert golden_models(GOLDEN) == set(GOLDEN_CONFIGS)


@pytest.mark.parametrize('root, name', golden_params(golden_models))
def test_golden_checkpoint_converts_to_the_same_logits(root, name, tmp_path):
    """A reference (MDistiller) checkpoint, converted and loaded strictly
    into the mmcatkd model of its config, gives the reference logits: the
    compact subset's models always, all of the full set's where it is
    present."""
    dst = str(tmp_path / f'{name}.pth')
    convert_teacher('mdistiller', golden(name, root), dst,
                    config_path(GOLDEN_CONFIGS[name]))
    model = load_converted(GOLDEN_CONFIGS[name], dst)
    reference = torch.load(
        golden(f'{name}_io', root), map_location='cpu', weights_only=True)
    with torch.no_grad():
        logits = model(reference['input'], mode='tensor')
    torch.testing.assert_close(logits, reference['logits'], atol=1e-4, rtol=0)


def calibrate_batch_norms(model: torch.nn.Module, size: int = 64) -> None:
    """Random BN affine terms and running statistics measured on random
    images, so that a BN mapped onto the wrong layer (or with its buffers
    swapped) changes the logits while they stay O(1), where 1e-4 absolute
    is a tight bound."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for norm in norms:
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.normal_(0, 0.1)
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batch below
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, size, size))
    for norm in norms:
        norm.momentum = 0.1
    model.eval()


@pytest.mark.slow
@pytest.mark.parametrize('depth', [18, 34, 50])
def test_torchvision_resnet_converts_to_the_same_logits(depth, tmp_path):
    """A torchvision ImageNet ResNet state dict, converted for MMPretrain's
    ResNet + CAMClsHead, gives torchvision's logits."""
    torch.manual_seed(depth)
    reference = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    calibrate_batch_norms(reference)
    src, dst = str(tmp_path / 'tv.pth'), str(tmp_path / 'mm.pth')
    torch.save(reference.state_dict(), src)
    convert_teacher('torchvision', src, dst,
                    config_path(f'imagenet/resnet{depth}'))
    model = load_converted(f'imagenet/resnet{depth}', dst)
    # Both nets are fully convolutional up to global pooling: 64 px
    # exercises every layer at a fraction of 224 px's cost.
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            model(inputs, mode='tensor'), reference(inputs), atol=1e-4, rtol=0)


def test_cli_writes_a_strictly_loadable_checkpoint(tmp_path, capsys):
    """The command line converts a checkpoint into an MMPretrain one
    ({'state_dict', 'meta'}) that load_checkpoint loads strictly."""
    dst = str(tmp_path / 'out' / 'resnet20.pth')
    load_cli().main([
        'mdistiller',
        golden('resnet20'), dst, '--model',
        config_path('cifar100/resnet20')
    ])
    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['converted_from'] == 'resnet20.pth'
    assert all(
        key.startswith(('backbone.', 'head.'))
        for key in checkpoint['state_dict'])
    load_converted('cifar100/resnet20', dst)
    assert dst in capsys.readouterr().out


def test_cli_reports_a_mismatched_architecture_in_one_message(
        tmp_path, capsys):
    """Converting for the wrong architecture stops with a message naming the
    unmapped keys, not a traceback, and writes nothing."""
    dst = tmp_path / 'out.pth'
    with pytest.raises(SystemExit):
        load_cli().main([
            'mdistiller',
            golden('resnet20'),
            str(dst), '--model',
            config_path('cifar100/resnet8x4')
        ])
    message = capsys.readouterr().err
    assert 'Traceback' not in message
    assert message.startswith('convert_teacher.py: error:')
    assert 'no destination' in message and 'layer' in message
    assert not dst.exists()


def test_unmapped_keys_are_listed_on_both_sides():
    """A source tensor with no destination and a destination tensor with no
    source are both named in the error."""
    destination = OrderedDict([('backbone.conv.weight',
                                torch.zeros(8, 3, 3, 3)),
                               ('backbone.bn.weight', torch.zeros(8)),
                               ('head.fc.weight', torch.zeros(10, 8)),
                               ('head.fc.bias', torch.zeros(10))])
    source = OrderedDict([('conv.weight', torch.ones(8, 3, 3, 3)),
                          ('extra.weight', torch.ones(4, 4)),
                          ('fc.weight', torch.ones(10, 8)),
                          ('fc.bias', torch.ones(10))])
    with pytest.raises(UnmappedKeysError) as error:
        map_state_dict(source, destination)
    assert error.value.source_keys == ['extra.weight']
    assert error.value.destination_keys == ['backbone.bn.weight']
    assert 'extra.weight' in str(error.value)
    assert 'backbone.bn.weight' in str(error.value)

    del source['extra.weight']
    source['fc.weight'] = torch.ones(100, 8)  # a 100-way checkpoint
    with pytest.raises(UnmappedKeysError, match=r'fc.weight \(100, 8\)'):
        map_state_dict(source, destination)


def test_data_parallel_prefixes_are_removed(tmp_path):
    """A checkpoint saved from DataParallel ('module.' keys) converts to the
    same tensors as the plain one."""
    plain = load_source_state_dict(golden('resnet20'), 'mdistiller')
    path = str(tmp_path / 'dp.pth')
    torch.save({'model': {f'module.{k}': v for k, v in plain.items()}}, path)
    prefixed = load_source_state_dict(path, 'mdistiller')
    assert list(prefixed) == list(plain)


def test_resorted_checkpoint_is_refused(monkeypatch):
    """Keys re-sorted as strings (layer1.10 before layer1.2) would map
    equal-shaped blocks onto each other by position; they are refused."""
    model = build_model(config_path('cifar100/resnet110'))
    source = OrderedDict(
        (key.split('.', 1)[1].replace('stages.0.', 'layer1.'), value)
        for key, value in model.state_dict().items())
    keys = list(source)
    positions = [i for i, key in enumerate(keys) if key.startswith('layer1.')]
    # Stable sort on the block number as a string: each block's tensors stay
    # in order, only the 18 equal-shaped blocks of layer1 are permuted.
    resorted_keys = sorted((keys[i] for i in positions),
                           key=lambda key: key.split('.')[1])
    for position, key in zip(positions, resorted_keys):
        keys[position] = key
    resorted = OrderedDict((key, source[key]) for key in keys)

    map_state_dict(source, model.state_dict())  # the original maps
    with pytest.raises(ValueError, match='registration order'):
        map_state_dict(resorted, model.state_dict())
    # Without the order check the alignment alone would accept it, with
    # layer1.10's weights in stage 0's block 2.
    monkeypatch.setattr(teacher, 'check_registration_order', lambda keys: None)
    swapped = map_state_dict(resorted, model.state_dict())
    assert swapped['backbone.stages.0.2.conv1.weight'] is \
        source['layer1.10.conv1.weight']


def test_bad_source_files_fail_with_one_sentence(tmp_path):
    """A state dict given as an MDistiller checkpoint, an unknown format,
    and a pickle that would run code are refused before any mapping."""
    bare = str(tmp_path / 'bare.pth')
    torch.save(OrderedDict(weight=torch.zeros(2)), bare)
    with pytest.raises(ValueError, match="'model'"):
        load_source_state_dict(bare, 'mdistiller')
    with pytest.raises(ValueError, match='mdistiller'):
        load_source_state_dict(bare, 'timm')

    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save({'model': {}, 'optimizer': torch.optim.SGD}, unsafe)
    with pytest.raises(UnsafeCheckpointError):
        load_source_state_dict(unsafe, 'mdistiller')
