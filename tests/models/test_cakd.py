"""CAKD (ACCV 2022): projectors, teacher attention maps, the lambda(e)
schedule and a few training steps with tiny stand-ins."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import EMAHook, Hook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

from mmcatkd.engine.hooks import DistillLossWeightHook
from mmcatkd.models.connectors import (GroupwiseLinearConnector,
                                       PartialCrossAttentionConnector,
                                       token_groups)
from mmcatkd.models.losses import CAKDLoss
from tests.conftest import (PROJECT_ROOT, TEST_CONFIGS, build_model, model_cfg,
                            random_batch)

TINY = osp.join(TEST_CONFIGS, 'cakd_tiny.py')
DISTILL_LOSSES = ('loss_qk', 'loss_vv', 'loss_logits', 'loss_cls_token',
                  'loss_patch_tokens')
EXPECTED_LOSSES = {'student.loss'
                   } | {f'distill.{name}'
                        for name in DISTILL_LOSSES}
NUM_CLASSES = 4


def _tiny_cfg(**overrides):
    return model_cfg(TINY, **overrides)


def _build(**overrides):
    return build_model(TINY, **overrides)


_batch = random_batch


def _per_head(tokens, num_heads):
    """(B, N, heads * d) -> (B, heads, N, d), MMPretrain's head layout."""
    batch, length, channels = tokens.shape
    return tokens.reshape(batch, length, num_heads,
                          channels // num_heads).transpose(1, 2)


def test_teacher_qk_vv_equal_mmpretrain_attention_logits():
    """The teacher QK map made from the recorded qkv output is the head
    average of the logits MMPretrain's MultiheadAttention softmaxes (checked
    against its own output), and VV is the unscaled v v^T, both on the patch
    tokens only."""
    model = _build()
    attention = model.teacher.backbone.layers[1].attn
    captured = {}
    attention.register_forward_pre_hook(
        lambda module, args: captured.update(x=args[0]))
    attention.proj.register_forward_pre_hook(
        lambda module, args: captured.update(mixed=args[0]))
    model.loss(*_batch())

    x = captured['x']
    batch, length, _ = x.shape
    heads, head_dims = attention.num_heads, attention.head_dims
    qkv = attention.qkv(x).reshape(batch, length, 3, heads,
                                   head_dims).permute(2, 0, 3, 1, 4)
    query, key, value = qkv[0], qkv[1], qkv[2]
    logits = query @ key.transpose(-2, -1) * head_dims**-0.5
    # these are the logits MMPretrain turns into its attention output
    mixed = (logits.softmax(-1) @ value).transpose(1, 2).reshape(
        batch, length, -1)
    torch.testing.assert_close(mixed, captured['mixed'])

    expected_qk = logits.mean(1)[:, 1:, 1:]
    expected_vv = (value @ value.transpose(-2, -1)).mean(1)[:, 1:, 1:]
    distiller = model.distiller
    teacher_qk = distiller.get_record('qkv', False, connector='qk_T')
    teacher_vv = distiller.get_record('qkv', False, connector='vv_T')
    assert teacher_qk.shape == (4, 64, 64)
    torch.testing.assert_close(teacher_qk, expected_qk)
    torch.testing.assert_close(teacher_vv, expected_vv)


@pytest.mark.parametrize('relation', ['qk', 'vv'])
def test_student_relations_equal_the_per_head_computation(relation):
    """The student projector's map equals splitting q, k, v into heads,
    scaling each head's product by 1/sqrt(head_dims) (VV too) and averaging
    over heads; tokens are the map's positions row by row."""
    torch.manual_seed(0)
    connector = PartialCrossAttentionConnector(
        in_channels=12, relation=relation, num_heads=3, head_dims=5)
    feature = torch.randn(2, 12, 3, 4)
    tokens = feature.permute(0, 2, 3, 1).reshape(2, 12, 12)
    projected = tokens @ connector.proj.weight.t()
    if relation == 'qk':
        left, right = projected[..., :15], projected[..., 15:]
    else:
        left = right = projected
    per_head = _per_head(left, 3) @ _per_head(right, 3).transpose(-2, -1)
    expected = (per_head * 5**-0.5).mean(1)
    torch.testing.assert_close(connector(feature), expected)


@pytest.mark.parametrize('grid,sides', [
    ((14, 14), [4, 4, 4, 2]),
    ((7, 7), [2, 2, 2, 1]),
    ((8, 8), [2, 2, 2, 2]),
    ((14, 8), None),
])
def test_token_groups_cover_each_token_exactly_once(grid, sides):
    """The 4 x 4 blocks of an H x W grid hold every token exactly once; on
    14 x 14 (224 px) they are the authors' 4, 4, 4, 2 tokens per side."""
    groups = token_groups(grid, 4)
    assert len(groups) == 16
    assert all(len(index) > 0 for index in groups)
    every = torch.cat(groups).sort().values
    assert torch.equal(every, torch.arange(grid[0] * grid[1]))
    if sides is not None:
        sizes = [len(index) for index in groups]
        assert sizes == [rows * cols for rows in sides for cols in sides]


def test_token_groups_refuse_an_empty_block():
    """A grid that leaves a block empty (9 = 3 + 3 + 3 + 0) fails with a
    message instead of projecting with fewer groups."""
    with pytest.raises(ValueError, match='9 x 9 token grid cannot be cut'):
        token_groups((9, 9), 4)


def test_groupwise_projector_applies_each_blocks_linear_in_place():
    """Token t of the output comes from the linear layer of t's block, in
    the teacher's row-major token order."""
    connector = GroupwiseLinearConnector(in_channels=3, out_channels=1)
    for group, linear in enumerate(connector.linears):
        torch.nn.init.zeros_(linear.weight)
        torch.nn.init.constant_(linear.bias, group)
    out = connector(torch.randn(2, 3, 7, 7))
    rows = torch.tensor([0, 0, 1, 1, 2, 2, 3])
    expected = (rows[:, None] * 4 + rows[None, :]).float().flatten()
    assert out.shape == (2, 49, 1)
    assert torch.equal(out[0, :, 0], expected)
    assert torch.equal(out[1, :, 0], expected)


@pytest.mark.parametrize('epoch,weight', [(0, 0.0), (25, 0.0), (26, 0.02),
                                          (50, 0.2), (75, 0.2), (120, 0.2)])
def test_lambda_schedule(epoch, weight):
    """lambda(e) = min(max(e - 25, 0) / 50, 0.2), the authors' schedule."""
    assert DistillLossWeightHook().weight(epoch) == pytest.approx(weight)


def test_lambda_scales_every_distill_term_and_not_the_student_loss():
    """distill_loss_weight, the one place lambda lives, multiplies the five
    CAKD terms and leaves the student's CE alone."""
    model = _build()
    results = {}
    for weight in (1.0, 0.5):
        model.distill_loss_weight = weight
        torch.manual_seed(1)  # the same mixup draw for both calls
        results[weight] = {
            key: value.detach()
            for key, value in model.loss(*_batch()).items()
        }
    assert set(results[1.0]) == EXPECTED_LOSSES
    for key, value in results[1.0].items():
        factor = 1.0 if key == 'student.loss' else 0.5
        torch.testing.assert_close(results[0.5][key], factor * value)


def test_gradients_reach_student_and_projectors_never_the_teacher():
    """Each distillation term alone trains the student part it compares
    (stage 3, stage 4 or the classifier) and its projector; no teacher
    parameter ever gets a gradient, and the teacher (with dropout and
    drop-path) stays in eval mode in training."""
    model = _build()
    model.train()
    assert not any(module.training for module in model.teacher.modules())
    model.distill_loss_weight = 1.0
    reaches = {
        'loss_qk': ('backbone.layer3', 'qk_S'),
        'loss_vv': ('backbone.layer3', 'vv_S'),
        'loss_patch_tokens': ('backbone.layer3', 'patch_tokens_S'),
        'loss_cls_token': ('backbone.layer4', 'cls_token_S'),
        'loss_logits': ('head.fc', None),
    }
    for name, (student_part, connector) in reaches.items():
        model.zero_grad(set_to_none=True)
        model.loss(*_batch())[f'distill.{name}'].backward()
        part = model.student.get_submodule(student_part)
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in part.parameters() if p.dim() > 1), name
        assert model.student.backbone.conv1.weight.grad.abs().sum() > 0
        if connector is not None:
            assert all(
                p.grad.abs().sum() > 0
                for p in model.distiller.connectors[connector].parameters())
        assert all(not p.requires_grad and p.grad is None
                   for p in model.teacher.parameters())


def test_mismatched_grids_are_named():
    """A student grid unlike the teacher's fails with both shapes instead of
    broadcasting."""
    with pytest.raises(
            ValueError,
            match=r'student \(2, 49, 8\) and teacher '
            r'\(2, 196, 8\) shapes differ'):
        CAKDLoss()(torch.zeros(2, 49, 8), torch.zeros(2, 196, 8))


@pytest.mark.slow
def test_training_logs_every_term_follows_lambda_and_keeps_the_teacher(
        image_folder, tmp_path):
    """Two epochs through MMEngine's Runner on generated images: every loss
    term is logged and finite each iteration, lambda is 0 in epoch 0 (the
    distill terms log 0) and 0.5 in epoch 1 (they log > 0), and the teacher
    (loaded from a checkpoint, strictly) ends exactly as loaded."""
    cfg = Config.fromfile(TINY)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        teacher = PRETRAIN_MODELS.build(cfg.model.teacher.to_dict())
    teacher.init_weights()
    teacher_ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)
    cfg.model.teacher_ckpt = teacher_ckpt
    cfg.work_dir = str(tmp_path / 'work_dir')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = image_folder
    runner = Runner.from_cfg(cfg)
    snapshots = []
    runner.register_hook(SnapshotBeforeValidation(snapshots), 'LOWEST')
    runner.train()

    def logged(name):
        return torch.as_tensor(
            runner.message_hub.get_scalar(f'train/{name}').data[0])

    # 24 images in batches of 4: 6 iterations per epoch
    assert logged('distill_loss_weight').tolist() == [0.0] * 6 + [0.5] * 6
    student_loss = logged('student.loss')
    assert len(student_loss) == 12 and torch.isfinite(student_loss).all()
    for name in DISTILL_LOSSES:
        values = logged(f'distill.{name}')
        assert torch.isfinite(values).all(), name
        assert (values[:6] == 0).all() and (values[6:] > 0).all(), name

    trained = runner.model.teacher.state_dict()
    for key, value in teacher.state_dict().items():
        assert torch.equal(trained[key], value), key

    # RawAndEMAValLoop: raw and EMA student both reported, each as computed
    # by hand from its weights; the teacher once; and validation hands the
    # raw weights back to training
    student = runner.model.student.state_dict()
    for key, value in snapshots[-1].items():
        assert torch.equal(student[key], value), key
    ema_hook = next(h for h in runner.hooks if isinstance(h, EMAHook))
    ema_student = ema_hook.ema_model.module.student
    assert any(not torch.equal(value,
                               ema_student.state_dict()[key])
               for key, value in student.items())
    hub = runner.message_hub
    for prefix, model in (('', runner.model.student), ('ema/', ema_student)):
        assert hub.get_scalar(f'val/{prefix}accuracy/top1').current() == \
            pytest.approx(100 * _accuracy(runner, model)), prefix
    assert len(hub.get_scalar('val/teacher.accuracy/top1').data[0]) == 1


class SnapshotBeforeValidation(Hook):
    """Keeps the student's weights at the end of every training epoch (before
    the validation that follows it)."""

    def __init__(self, snapshots):
        self.snapshots = snapshots

    def after_train_epoch(self, runner):
        self.snapshots.append(copy.deepcopy(runner.model.student.state_dict()))


def _accuracy(runner, model) -> float:
    """Top-1 of ``model`` on the validation images, by hand."""
    correct = total = 0
    model.eval()
    for data_batch in runner.val_dataloader:
        data = runner.model.data_preprocessor(data_batch, False)
        with torch.no_grad():
            logits = model(data['inputs'], mode='tensor')
        labels = torch.stack([s.gt_label[0] for s in data['data_samples']])
        correct += (logits.argmax(1) == labels).sum().item()
        total += len(labels)
    return correct / total


def test_imagenet_lr_of_every_epoch_is_torchvisions():
    """The CAKD schedule is torchvision's reference one: LinearLR(0.01,
    total_iters=5) then StepLR(30, 0.1) chained after the warm-up, stepped
    per epoch: lr 0.1 x (0.01 + 0.99 e / 5) for e < 5, x0.1 from epochs 35,
    65 and 95."""
    from mmengine.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile(
        osp.join(PROJECT_ROOT, 'configs', 'cakd',
                 'cakd_vit-base-p16_resnet50_8xb32_in1k.py'))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(scheduler, optimizer=optimizer))
        for scheduler in cfg.param_scheduler
    ]
    for epoch in range(120):
        expected = 0.1 * (0.01 + 0.99 * epoch / 5) if epoch < 5 else \
            0.1 * 0.1**sum(epoch >= step for step in (35, 65, 95))
        assert optimizer.param_groups[0]['lr'] == pytest.approx(
            expected, rel=1e-9), epoch
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
