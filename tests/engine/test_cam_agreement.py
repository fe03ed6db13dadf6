"""CAMAgreementHook: the student-teacher CAM agreement at validation."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmcatkd.engine.hooks import CAMAgreementHook, top1_cam_agreement
from tests.conftest import TEST_CONFIGS, image_folder  # noqa: F401

CATKD = osp.join(TEST_CONFIGS, 'catkd_tiny.py')


def test_identical_cams_agree_fully_and_disjoint_ones_not_at_all():
    """IoU 1 for the same maps (even at different resolutions, upsampled to
    the common size) and 0 for maps lit in disjoint halves: the number
    measures overlap of where the two models look, nothing else. Only the
    teacher's top-1 class is compared."""
    cams = torch.zeros(2, 3, 4, 4)
    cams[0, 1, :2] = 1.0  # image 0, class 1: top half
    cams[1, 2, :, :2] = 1.0  # image 1, class 2: left half
    top1 = torch.tensor([1, 2])
    same = top1_cam_agreement(cams, cams.clone(), top1, (8, 8))
    assert same.tolist() == [1.0, 1.0]
    disjoint = cams.flip(2, 3)  # bottom half, right half
    assert top1_cam_agreement(disjoint, cams, top1,
                              (8, 8)).tolist() == [0.0, 0.0]
    # other classes do not enter: change class 0 of the student only
    other = cams.clone()
    other[:, 0] = torch.rand(2, 4, 4)
    assert top1_cam_agreement(other, cams, top1, (8, 8)).tolist() == [1.0, 1.0]
    # a 2x2 student map equal to the pooled teacher map still agrees
    coarse = torch.nn.functional.avg_pool2d(cams, 2)
    assert top1_cam_agreement(coarse, cams, top1,
                              (4, 4)).tolist() == [1.0, 1.0]


@pytest.mark.slow
def test_runner_logs_cat_loss_and_iou_after_validation(image_folder,
                                                       tmp_path):  # noqa: F811
    """One epoch of the tiny CAT-KD config with the hook: after validation
    the message hub (so the log line) and the visualisation backend's
    scalars file hold cam_agreement/cat_loss >= 0 and a top1_iou in [0, 1],
    once per validation although MMRazor's loop runs every batch twice."""
    cfg = Config.fromfile(CATKD)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.custom_hooks = [dict(type='CAMAgreementHook')]
    cfg.visualizer = dict(
        type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = image_folder
    runner = Runner.from_cfg(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, CAMAgreementHook))
    runner.train()

    loss = runner.message_hub.get_scalar('val/cam_agreement/cat_loss')
    iou = runner.message_hub.get_scalar('val/cam_agreement/top1_iou')
    assert loss.current() >= 0 and 0 <= iou.current() <= 1
    # 24 validation images, each counted once
    assert int(hook._sums[2]) == 24
    scalars_file = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    with open(scalars_file) as file:
        records = [json.loads(line) for line in file]
    logged = [r for r in records if 'cam_agreement/top1_iou' in r]
    assert len(logged) == 1
    assert logged[0]['cam_agreement/cat_loss'] == pytest.approx(loss.current())


def test_needs_a_distillation_model():
    """On a plain classifier the hook says what it needs instead of failing
    deep inside with an AttributeError."""

    class FakeRunner:
        model = torch.nn.Linear(2, 2)

    with pytest.raises(TypeError, match='distillation model'):
        CAMAgreementHook()._algorithm(FakeRunner())


def test_hook_reports_the_cat_loss_and_iou_computed_by_hand():
    """After one validation batch (seen twice, as MMRazor's loop does) the
    hook reports the CAT loss of the two models' CAMs computed by hand from
    their weights, and the mean IoU of their top-1 (teacher) CAMs upsampled
    to the input, each binarised at its mean |CAM|, also by hand."""
    from mmengine.logging import MessageHub

    from tests.conftest import build_model, cams_by_hand, cat_by_hand
    model = build_model('catkd_tiny.py').eval()
    generator = torch.Generator().manual_seed(1)
    data_batch = dict(inputs=[
        torch.randint(
            0, 256, (3, 32, 32), dtype=torch.uint8, generator=generator)
        for _ in range(3)
    ])

    class FakeRunner:
        message_hub = MessageHub.get_instance('cam_agreement_by_hand')

    FakeRunner.model = model
    hook = CAMAgreementHook()
    hook.before_val(FakeRunner)
    hook.after_val_iter(FakeRunner, 0, data_batch)
    hook.after_val_iter(FakeRunner, 0, data_batch)
    metrics = {}
    hook.after_val_epoch(FakeRunner, metrics)

    with torch.no_grad():
        inputs = model.data_preprocessor(data_batch, False)['inputs']
        cams_S = cams_by_hand(model.student, inputs)
        cams_T = cams_by_hand(model.teacher, inputs)
        logits_T = cams_T.mean(dim=(2, 3)) + model.teacher.head.fc.bias
    loss = float(cat_by_hand(cams_S, cams_T, 1.0, 2))
    ious = []
    for index, label in enumerate(logits_T.argmax(dim=1)):
        masks = []
        for cams in (cams_S, cams_T):
            cam = torch.nn.functional.interpolate(
                cams[index, label][None, None],
                size=(32, 32),
                mode='bilinear',
                align_corners=False)[0, 0]
            masks.append(cam > cam.abs().mean())
        ious.append(
            float((masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum()))
    assert 0 < min(ious) and max(ious) < 1  # not a trivial agreement
    assert metrics['cam_agreement/cat_loss'] == pytest.approx(loss, rel=1e-5)
    assert metrics['cam_agreement/top1_iou'] == pytest.approx(
        sum(ious) / 3, rel=1e-6)
    assert FakeRunner.message_hub.get_scalar(
        'val/cam_agreement/top1_iou').current() == pytest.approx(
            sum(ious) / 3)
