"""CAMClsHead: the paper's reformulated classifier (CAT-KD Eq. 2-3)."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS

from mmcatkd.models.cams import class_activation_maps, logits_and_cams
from mmcatkd.models.heads import CAMClsHead


def _classifier(head, neck=None):
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet_CIFAR',
                depth=18,
                out_indices=(3, ),
                base_channels=8,
                stem_channels=8),
            neck=neck,
            head=head))


def _heads(num_classes=10, in_channels=64):
    cam_head = CAMClsHead(num_classes=num_classes, in_channels=in_channels)
    linear_head = MODELS.build(
        dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=in_channels))
    linear_head.load_state_dict(cam_head.state_dict())
    return cam_head, linear_head


def test_logits_equal_gap_plus_linear_head():
    """Logits equal GlobalAveragePooling + LinearClsHead with the same
    weights (1e-5 abs, fp32)."""
    torch.manual_seed(0)
    cam_head, linear_head = _heads()
    feat = torch.randn(4, 64, 7, 7)
    gap = MODELS.build(dict(type='GlobalAveragePooling'))
    expected = linear_head(gap((feat, )))
    torch.testing.assert_close(cam_head((feat, )), expected, atol=1e-5, rtol=0)


def test_logits_are_spatial_mean_of_cams_plus_bias():
    """logits_k = mean_xy(CAM_k) + b_k, with CAM the bias-free 1x1 conv."""
    torch.manual_seed(0)
    cam_head, _ = _heads()
    feat = torch.randn(2, 64, 8, 8)
    cams = cam_head.cams((feat, ))
    assert cams.shape == (2, 10, 8, 8)
    direct = torch.einsum('kc,nchw->nkhw', cam_head.fc.weight, feat)
    torch.testing.assert_close(cams, direct, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        cam_head((feat, )),
        cams.mean(dim=(2, 3)) + cam_head.fc.bias,
        atol=1e-5,
        rtol=0)


@pytest.mark.parametrize('size, resolution', [(8, 2), (7, 2), (7, 4), (4, 4),
                                              (6, 1)])
def test_pooled_first_cams_equal_pooled_full_cams(size, resolution):
    """conv1x1(pool(F)) == pool(conv1x1(F)) (1e-5), including overlapping
    adaptive-pooling bins (7x7 -> 2x2)."""
    torch.manual_seed(0)
    feat = torch.randn(3, 16, size, size)
    weight = torch.randn(5, 16)
    pooled_first = class_activation_maps(feat, weight, resolution)
    full_then_pooled = F.adaptive_avg_pool2d(
        class_activation_maps(feat, weight), resolution)
    assert pooled_first.shape == (3, 5, resolution, resolution)
    torch.testing.assert_close(
        pooled_first, full_then_pooled, atol=1e-5, rtol=1e-5)


def test_linear_head_checkpoint_loads_strictly(tmp_path):
    """A GAP + LinearClsHead model's checkpoint (head.fc.weight [K, C],
    head.fc.bias [K]) loads into the CAMClsHead model with strict=True and
    gives the same logits."""
    torch.manual_seed(0)
    linear_model = _classifier(
        dict(type='LinearClsHead', num_classes=10, in_channels=64),
        neck=dict(type='GlobalAveragePooling')).eval()
    path = str(tmp_path / 'linear.pth')
    torch.save(dict(state_dict=linear_model.state_dict()), path)
    cam_model = _classifier(
        dict(type='CAMClsHead', num_classes=10, in_channels=64)).eval()
    load_checkpoint(cam_model, path, strict=True)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            cam_model(images, mode='tensor'),
            linear_model(images, mode='tensor'),
            atol=1e-5,
            rtol=0)


def test_bias_free_logits_are_the_spatial_mean_of_the_cams():
    """bias=False (the paper's Eq. 3, the authors' conv_test): no bias
    parameter, logits_k = mean_xy(CAM_k) exactly."""
    torch.manual_seed(0)
    head = CAMClsHead(num_classes=10, in_channels=64, bias=False)
    assert head.fc.bias is None
    assert set(head.state_dict()) == {'fc.weight'}
    feat = torch.randn(2, 64, 8, 8)
    torch.testing.assert_close(
        head((feat, )),
        head.cams((feat, )).mean(dim=(2, 3)),
        atol=1e-5,
        rtol=0)


def test_loss_and_predict_are_mmpretrain_heads():
    """loss() returns MMPretrain's CE loss and predict() fills pred_score."""
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    cam_head, _ = _heads(num_classes=3, in_channels=4)
    feats = (torch.randn(2, 4, 5, 5), )
    samples = [DataSample().set_gt_label(i) for i in (0, 2)]
    loss = cam_head.loss(feats, samples)['loss']
    logits = cam_head(feats)
    torch.testing.assert_close(loss,
                               F.cross_entropy(logits, torch.tensor([0, 2])))
    predictions = cam_head.predict(feats)
    assert predictions[1].pred_score.shape == (3, )


def test_pooled_input_is_rejected_with_advice():
    """A (N, C) input (a GAP neck in front) fails with one sentence saying
    to use neck=None."""
    cam_head, _ = _heads()
    with pytest.raises(ValueError, match='neck=None'):
        cam_head((torch.randn(2, 64), ))


def _same_weights_cam_and_gap_linear_models():
    torch.manual_seed(0)
    linear_model = _classifier(
        dict(type='LinearClsHead', num_classes=10, in_channels=64),
        neck=dict(type='GlobalAveragePooling')).eval()
    cam_model = _classifier(
        dict(type='CAMClsHead', num_classes=10, in_channels=64)).eval()
    cam_model.load_state_dict(linear_model.state_dict())
    return cam_model, linear_model


def test_pre_logits_keeps_mmpretrain_contract():
    """extract_feat(stage='pre_logits') gives the pooled (N, C) features, as
    for GAP + LinearClsHead; the map and CAMs come from their own methods."""
    cam_model, linear_model = _same_weights_cam_and_gap_linear_models()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        pooled = cam_model.extract_feat(images, stage='pre_logits')
        expected = linear_model.extract_feat(images, stage='pre_logits')
        feats = cam_model.backbone(images)
    assert pooled.shape == (2, 64)
    torch.testing.assert_close(pooled, expected)
    assert cam_model.head.feature_map(feats).shape == (2, 64, 4, 4)


def test_logits_and_cams_agree_for_cam_and_gap_linear_heads():
    """The one CAM function gives the same logits and CAMs for a CAMClsHead
    model and the GAP + LinearClsHead model with its weights, and its CAMs
    are the FC weights applied to the last map by hand."""
    cam_model, linear_model = _same_weights_cam_and_gap_linear_models()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits_cam, cams_cam = logits_and_cams(cam_model, images)
        logits_lin, cams_lin = logits_and_cams(linear_model, images)
        feat = linear_model.backbone(images)[-1]
    by_hand = torch.einsum('kc,nchw->nkhw', linear_model.head.fc.weight, feat)
    torch.testing.assert_close(cams_cam, by_hand, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cams_lin, by_hand, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits_cam, logits_lin, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        logits_lin, linear_model(images, mode='tensor'), atol=1e-5, rtol=0)
