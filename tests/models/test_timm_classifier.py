"""timm classifiers as CAT-KD teachers and students: their CAMs through the
one CAM path, timm's own pretrained loading (offline, from local files),
and the refusals of heads that are not GAP + one linear layer."""
import os.path as osp
import re

import pytest
import timm
import torch
from mmpretrain.registry import MODELS

import mmcatkd  # noqa: F401
from mmcatkd.models import classifier_of, head_cams, logits_and_cams
from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
from mmcatkd.models.classifiers import TimmImageClassifier, timm_cam_obstacle
from mmcatkd.models.recorders import CAMRecorder
from mmcatkd.utils.errors import ConfigError


def build(model_name, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='TimmImageClassifier', model_name=model_name, **kwargs))


def images(size=64, n=2):
    return torch.randn(
        n,
        3,
        size,
        size,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(1))


def saved_timm_weights(tmp_path, model_name, **kwargs):
    """A timm model's own state dict (timm's keys), saved as a local file,
    and the model it came from."""
    torch.manual_seed(3)
    model = timm.create_model(model_name, pretrained=False, **kwargs)
    path = osp.join(tmp_path, f'{model_name}.pth')
    torch.save(model.state_dict(), path)
    return path, model.eval()


@pytest.mark.parametrize('model_name',
                         ['resnet10t', 'regnety_002', 'test_efficientnet'])
def test_cams_equal_gap_before_classifier_in_float64(model_name):
    """Exact families: logits = GAP(CAM) + b (Eq. 2-3) within 1e-5, the
    CAMs written out from timm's map and classifier weights."""
    model = build(model_name).double().eval()
    inputs = images()
    with torch.no_grad():
        logits, cams = logits_and_cams(model, inputs)
        feat = model.backbone.model.forward_features(inputs)
    # the classifier was taken out of timm's model, not copied
    assert not any(p is model.head.fc.weight
                   for p in model.backbone.parameters())
    by_hand = torch.einsum('kc,nchw->nkhw', model.head.fc.weight, feat)
    torch.testing.assert_close(cams, by_hand, rtol=0, atol=1e-12)
    gap = cams.mean(dim=(2, 3)) + model.head.fc.bias
    assert (logits - gap).abs().max() <= 1e-5


def test_logits_are_timms_own(tmp_path):
    """The split model computes what timm's model computes, with timm's
    weights loaded by timm's own mechanism (a local file, offline)."""
    path, reference = saved_timm_weights(tmp_path, 'resnet10t')
    model = build(
        'resnet10t', pretrained=True,
        pretrained_cfg_overlay=dict(file=path)).eval()
    inputs = images().float()
    with torch.no_grad():
        expected = reference(inputs)
        assert torch.equal(model(inputs, mode='tensor'), expected)
    assert torch.equal(model.head.fc.weight, reference.fc.weight)
    assert model.pretrained


def test_checkpoint_path_loads_and_init_weights_keeps_it(tmp_path):
    path, reference = saved_timm_weights(tmp_path, 'regnety_002')
    model = build('regnety_002', checkpoint_path=path)
    model.init_weights()  # what the Runner calls: must not redraw them
    for key, value in reference.state_dict().items():
        ours = (
            model.head.fc.state_dict()[key.split('.')[-1]]
            if key.startswith('head.fc.') else
            model.backbone.model.state_dict()[key])
        assert torch.equal(ours, value), key


def test_state_dict_keys_hold_each_tensor_once():
    model = build('resnet10t')
    keys = list(model.state_dict())
    assert 'head.fc.weight' in keys
    assert not any(key.startswith('backbone.model.fc.') for key in keys)
    timm_keys = set(timm.create_model('resnet10t').state_dict())
    ours = {
        key[len('backbone.model.'):]
        for key in keys if key.startswith('backbone.model.')
    }
    assert ours | {'fc.weight', 'fc.bias'} == timm_keys


def test_num_classes_replaces_the_classifier_keeping_pretrained_map(tmp_path):
    """A 10-class model from 1000-class weights: timm drops the
    classifier, the rest loads."""
    path, reference = saved_timm_weights(tmp_path, 'resnet10t')
    model = build(
        'resnet10t',
        pretrained=True,
        num_classes=10,
        pretrained_cfg_overlay=dict(file=path))
    assert model.head.fc.weight.shape == (10, 512)
    assert model.head.num_classes == 10
    assert torch.equal(model.backbone.model.conv1[0].weight,
                       reference.conv1[0].weight)


def test_recorder_takes_the_cams_of_a_timm_model():
    model = build('test_resnet', num_classes=5).eval()
    recorder = CAMRecorder(output_size=2)
    recorder.initialize(model)
    inputs = images(size=64).float()
    with recorder, torch.no_grad():
        model(inputs, mode='tensor')
    feat = model.backbone(inputs)[-1]
    expected = torch.nn.functional.adaptive_avg_pool2d(
        torch.einsum('kc,nchw->nkhw', model.head.fc.weight, feat), 2)
    torch.testing.assert_close(
        recorder.data_buffer[0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('model_name, kwargs, reason', [
    ('test_convnext', {}, 'a head norm (head.norm, after pooling)'),
    ('test_vit', {}, 'a class-token head classifies the class token'),
    ('test_vit', dict(global_pool='map'), 'attention pooling'),
    ('mobilenetv3_small_050', {}, 'an MLP head'),
    ('resnet10t', dict(global_pool='max'), "global pool is 'max'"),
])
def test_heads_that_are_not_gap_and_linear_are_refused_with_why(
        model_name, kwargs, reason):
    assert reason in timm_cam_obstacle(timm.create_model(model_name, **kwargs))
    model = build(model_name, **kwargs)
    assert reason in model.head.cam_obstacle
    with pytest.raises(TypeError, match=re.escape(reason)):
        classifier_of(model.head)
    with pytest.raises(TypeError, match='cannot produce class activation'):
        CAMRecorder().initialize(model)


def test_refused_heads_still_give_timms_logits():
    """ConvNeXt's head norm is refused for CAMs, but as a logit-KD teacher
    it computes timm's logits."""
    model = build('test_convnext').eval()
    torch.manual_seed(0)
    reference = timm.create_model('test_convnext').eval()
    inputs = images(size=64).float()
    with torch.no_grad():
        torch.testing.assert_close(
            model(inputs, mode='tensor'), reference(inputs), rtol=0, atol=0)
    with pytest.raises(TypeError):
        head_cams(model.head, model.backbone(inputs))


def test_timm_names_resolve_to_a_pretrained_timm_classifier():
    cfg = resolve_cfg_path(
        dict(cfg_path='timm://regnety_016.tv2_in1k', num_classes=10))
    assert cfg == dict(
        _scope_='mmpretrain',
        type='TimmImageClassifier',
        model_name='regnety_016.tv2_in1k',
        pretrained=True,
        num_classes=10)
    assert resolve_cfg_path('timm://resnet18')['model_name'] == 'resnet18'
    random = resolve_cfg_path(
        dict(cfg_path='timm://resnet18', pretrained=False))
    assert random['pretrained'] is False


@pytest.mark.parametrize('name, message', [
    ('resnt18', "timm has no model 'resnt18': use one of"),
    ('resnet18.no_such_tag', "no pretrained weights 'resnet18.no_such_tag'"),
])
def test_unknown_names_fail_in_one_sentence(name, message):
    with pytest.raises(ConfigError, match=message):
        TimmImageClassifier(name)


def test_offline_without_cached_weights_says_so(tmp_path, monkeypatch):
    """No network and an empty cache: one sentence naming the model and
    the local-file alternatives, no retries against the hub."""
    import huggingface_hub.constants as hf_constants
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path))
    with pytest.raises(ConfigError) as error:
        TimmImageClassifier('test_resnet.r160_in1k', pretrained=True)
    message = str(error.value)
    assert 'test_resnet.r160_in1k' in message
    assert 'pretrained_cfg_overlay=dict(file=PATH)' in message
    assert message.count('. ') == 0  # one sentence


def test_random_classifier_says_when_timm_dropped_the_weights_one(tmp_path):
    """timm drops the classifier of pretrained weights whenever num_classes
    is not their pretrained_cfg's: a 1000-class file for num_classes=10,
    and a 10-class file whose overlay does not say num_classes=10. The
    classifier is then not the file's, and ``random_classifier`` says so;
    an overlay that names the file's class count loads it."""
    (tmp_path / 'in1k').mkdir()
    imagenet, _ = saved_timm_weights(tmp_path / 'in1k', 'resnet10t')
    ten, reference = saved_timm_weights(tmp_path, 'resnet10t', num_classes=10)
    for path in (imagenet, ten):
        model = build(
            'resnet10t',
            pretrained=True,
            num_classes=10,
            pretrained_cfg_overlay=dict(file=path))
        assert not torch.equal(model.head.fc.weight, reference.fc.weight)
        assert ('dropped the 1000-class classifier of the weights for '
                'num_classes=10') in model.random_classifier
    model = build(
        'resnet10t',
        pretrained=True,
        num_classes=10,
        pretrained_cfg_overlay=dict(file=ten, num_classes=10))
    assert torch.equal(model.head.fc.weight, reference.fc.weight)
    assert model.random_classifier is None
    # weights that are no file (a tag's from the hub, a state dict): the
    # fixes are the weights' class count and a teacher checkpoint
    model = build(
        'resnet10t',
        pretrained=True,
        num_classes=10,
        pretrained_cfg_overlay=dict(
            state_dict=torch.load(imagenet, weights_only=True)))
    assert 'give num_classes=1000' in model.random_classifier
    assert 'pretrained_cfg_overlay' not in model.random_classifier
    # random weights and checkpoint_path (a strict load) drop nothing
    assert build('resnet10t', num_classes=10).random_classifier is None
    assert build(
        'resnet10t', num_classes=10,
        checkpoint_path=ten).random_classifier is None


def test_a_teacher_refuses_a_classifier_timm_left_random(tmp_path):
    """A teacher with timm's weights but a random classifier stops in one
    sentence naming the fixes (the weights' class count, the overlay's
    num_classes for that file, a fine-tuned teacher_ckpt); a teacher_ckpt
    loaded over it gives it its trained classifier and passes."""
    from mmcatkd.models.algorithms.teacher import freeze_teacher
    path, reference = saved_timm_weights(tmp_path, 'resnet10t', num_classes=10)
    model = build(
        'resnet10t',
        pretrained=True,
        num_classes=10,
        pretrained_cfg_overlay=dict(file=path))
    with pytest.raises(ConfigError) as error:
        freeze_teacher(model, None)
    message = str(error.value)
    assert message.startswith('a teacher needs its trained classifier, and '
                              'timm gave resnet10t a random classifier')
    assert 'num_classes=1000' in message
    assert (f"pretrained_cfg_overlay=dict(file='{path}', num_classes=10)"
            in message)
    assert 'as teacher_ckpt' in message
    assert message.count('. ') == 0 and message.endswith('.')

    trained = build(
        'resnet10t',
        pretrained=True,
        num_classes=10,
        pretrained_cfg_overlay=dict(file=path, num_classes=10))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=trained.state_dict()), ckpt)
    freeze_teacher(model, ckpt)
    assert torch.equal(model.head.fc.weight, reference.fc.weight)


def test_a_distiller_with_a_timm_teacher_refuses_its_random_classifier(
        tmp_path):
    """The digits CAT-KD config with a timm teacher from a 10-class file
    but no num_classes in the overlay does not build: the check runs where
    the algorithms freeze their teachers."""
    from mmengine.config import Config
    from mmrazor.registry import MODELS as RAZOR_MODELS

    from tests.conftest import DIGITS_CATKD_CONFIG, PROJECT_ROOT
    path, _ = saved_timm_weights(tmp_path, 'test_resnet', num_classes=10)
    cfg = Config.fromfile(
        osp.join(PROJECT_ROOT, 'configs', DIGITS_CATKD_CONFIG))
    cfg.model.teacher = dict(
        cfg_path='timm://test_resnet',
        num_classes=10,
        pretrained_cfg_overlay=dict(file=path))
    cfg.model.teacher_ckpt = None
    with pytest.raises(
            ConfigError,
            match='a teacher needs its trained '
            'classifier, and timm gave test_resnet a random'):
        RAZOR_MODELS.build(cfg.model)
