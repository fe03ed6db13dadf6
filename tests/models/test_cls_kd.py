"""[CLS]-KD: its losses by hand, the shared projector, the layer recorder,
FrozenTeacherDistill and the ImageNet configs (built at DeiT sizes, trained
with tiny stand-ins)."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS, TASK_UTILS

from mmcatkd.models.losses import adaptive_layer_sum
from mmcatkd.models.losses.manifold import gram_mse
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS, data_root_options

TINY_CONFIG = osp.join(TEST_CONFIGS, 'clskd_tiny.py')
DEIT_T_CONFIG = osp.join(PROJECT_ROOT, 'configs', 'clskd',
                         'clskd_deit-base_deit-tiny_4xb128_in1k.py')
DEIT_S_CONFIG = osp.join(PROJECT_ROOT, 'configs', 'clskd',
                         'clskd_deit-base_deit-small_4xb128_in1k.py')
LOSS_NAMES = {
    'distill.loss_kd', 'distill.loss_cls', 'distill.loss_atn',
    'distill.loss_mf_sample', 'distill.loss_mf_patch', 'distill.loss_mf_rand'
}


def _tokens(*rows):
    """One image's block output (1, N, C) from N token rows."""
    return torch.tensor([rows], dtype=torch.float32)


# --- adaptive layer weighting -------------------------------------------


def test_adaptive_sum_value_and_non_detached_gradient():
    """term = sum_i c_i L_i^2 / S; its gradient w.r.t. L_k is the analytic
    2 c_k L_k / S - sum_i c_i L_i^2 / S^2 (weights not detached), not the
    c_k L_k / S of detached weights."""
    layer_losses = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    term = adaptive_layer_sum(list(layer_losses), last_weight=4.0)
    torch.testing.assert_close(term, torch.tensor(41 / 6))
    term.backward()
    torch.testing.assert_close(layer_losses.grad,
                               torch.tensor([-29, -17, 103]) / 36)


def test_adaptive_sum_of_zero_losses_is_zero():
    """Identical student and teacher (all L_i = 0) give 0, not NaN."""
    zeros = torch.zeros(3, requires_grad=True)
    term = adaptive_layer_sum(list(zeros), last_weight=4.0)
    term.backward()
    assert term.item() == 0
    assert torch.isfinite(zeros.grad).all()


# --- CLS-token and CLS-patch attention losses ---------------------------


def test_cls_token_loss_by_hand():
    """L_i = mean((normalize(cls_T) - proj_S)^2); two layers combined
    adaptively with the last one x4; teacher detached."""
    tokens_T = [
        _tokens([3.0, 4.0], [1.0, 1.0]).requires_grad_(),  # cls -> (.6, .8)
        _tokens([0.0, 2.0], [1.0, 1.0]).requires_grad_(),  # cls -> (0, 1)
    ]
    cls_S = [
        torch.tensor([[0.6, 0.0]], requires_grad=True),  # L_1 = 0.64 / 2
        torch.tensor([[0.0, 0.0]], requires_grad=True),  # L_2 = 1 / 2
    ]
    loss = MODELS.build(
        dict(type='CLSTokenLoss', last_weight=4.0, loss_weight=2.0))(cls_S,
                                                                     tokens_T)
    expected = 2.0 * (0.32**2 + 4 * 0.5**2) / (0.32 + 0.5)
    torch.testing.assert_close(loss, torch.tensor(expected))
    loss.backward()
    assert all(proj.grad is not None for proj in cls_S)
    assert all(block.grad is None for block in tokens_T)


def test_cls_patch_attention_loss_by_hand():
    """atn = cosine(cls, each patch); L = mean((atn_T - atn_S)^2) on the
    student's own tokens (widths 2 and 3 differ); last layer x4."""
    student = _tokens([1.0, 0.0], [2.0, 0.0], [0.0, 3.0])  # atn_S = (1, 0)
    teacher = _tokens([0.0, 1.0, 0.0], [1.0, 0.0, 0.0],
                      [0.0, 2.0, 0.0])  # atn_T = (0, 1): L = 1
    same_S = _tokens([1.0, 1.0], [1.0, 0.0], [0.0, 1.0])
    same_T = _tokens([2.0, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    loss = MODELS.build(dict(type='CLSPatchAttentionLoss', last_weight=4.0))
    # L = (1, 0): the x4 falls on the zero term
    torch.testing.assert_close(
        loss([student, same_S], [teacher, same_T]), torch.tensor(1.0))
    # L = (0, 1)
    torch.testing.assert_close(
        loss([same_S, student], [same_T, teacher]), torch.tensor(4.0))


# --- manifold terms ------------------------------------------------------


def test_patch_and_sample_manifold_by_hand():
    """Patch level: Gram over the tokens of one image; sample level: Gram
    over the images at one token position; the mean squared difference."""
    patch = MODELS.build(dict(type='PatchManifoldLoss'))
    sample = MODELS.build(dict(type='SampleManifoldLoss'))
    # one image, tokens (1,0),(0,1) vs (1,0,0),(2,0,0): I vs all-ones Gram
    one_image_S = _tokens([1.0, 0.0], [0.0, 1.0])
    one_image_T = _tokens([1.0, 0.0, 0.0], [2.0, 0.0, 0.0])
    torch.testing.assert_close(
        patch([one_image_S], [one_image_T]), torch.tensor(0.5))
    # the same rows as two images of one token: now across the batch
    two_images_S = one_image_S.transpose(0, 1)
    two_images_T = one_image_T.transpose(0, 1)
    torch.testing.assert_close(
        sample([two_images_S], [two_images_T]), torch.tensor(0.5))
    torch.testing.assert_close(
        patch([two_images_S], [two_images_T]), torch.tensor(0.0))
    torch.testing.assert_close(
        sample([one_image_S], [one_image_T]), torch.tensor(0.0))


def test_manifold_terms_average_layers_then_weight():
    """loss_weight * sum_i L_i / n over the layers."""
    patch = MODELS.build(dict(type='PatchManifoldLoss', loss_weight=4.0))
    same = _tokens([1.0, 2.0], [3.0, 1.0])
    student = _tokens([1.0, 0.0], [0.0, 1.0])
    teacher = _tokens([1.0, 0.0], [2.0, 0.0])
    torch.testing.assert_close(
        patch([student, same], [teacher, same]), torch.tensor(4.0 * 0.25))


def test_random_manifold_uses_the_same_rows_for_both():
    """K of the B*N token rows, the same K for student and teacher: a
    teacher equal to the student up to per-row scale gives exactly 0, and
    the loss is the Gram MSE of the rows torch.randperm draws."""
    loss = MODELS.build(dict(type='RandomManifoldLoss', num_samples=5))
    tokens_S = torch.randn(2, 8, 4)
    scaled_T = tokens_S * torch.rand(2, 8, 1).add(0.5)
    assert loss([tokens_S], [scaled_T]).item() == pytest.approx(0, abs=1e-6)

    tokens_T = torch.randn(2, 8, 6)
    torch.manual_seed(3)
    value = loss([tokens_S], [tokens_T])
    torch.manual_seed(3)
    rows = torch.randperm(16)[:5]
    expected = gram_mse(
        tokens_S.flatten(0, 1)[rows],
        tokens_T.flatten(0, 1)[rows])
    torch.testing.assert_close(value, expected)


def test_random_manifold_with_k_above_the_rows_takes_all_rows():
    """K >= B*N: every row once, so the value is the full Gram MSE."""
    loss = MODELS.build(dict(type='RandomManifoldLoss', num_samples=192))
    student = _tokens([1.0, 0.0], [0.0, 1.0])
    teacher = _tokens([1.0, 0.0], [2.0, 0.0])
    torch.testing.assert_close(loss([student], [teacher]), torch.tensor(0.5))


@pytest.mark.parametrize('loss_type', [
    'CLSPatchAttentionLoss', 'PatchManifoldLoss', 'SampleManifoldLoss',
    'RandomManifoldLoss'
])
def test_token_losses_refuse_bad_inputs(loss_type):
    """A bare tensor instead of a list, unequal layer counts and unequal
    token counts fail with a sentence naming the problem."""
    loss = MODELS.build(dict(type=loss_type))
    block = torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match='as a list'):
        loss(block, block)
    with pytest.raises(ValueError, match='same number'):
        loss([block, block], [block])
    with pytest.raises(ValueError, match='same batch size and number of'):
        loss([block], [torch.randn(2, 6, 8)])


def test_cls_token_loss_names_a_projector_width_mismatch():
    loss = MODELS.build(dict(type='CLSTokenLoss'))
    with pytest.raises(ValueError, match="projector's out_channels"):
        loss([torch.randn(2, 16)], [torch.randn(2, 5, 8)])


# --- projector and recorder ------------------------------------------------


def test_projector_is_one_mlp_on_the_normalised_class_token():
    """Linear(C_S, (C_S+C_T)//2) -> GELU -> Linear(., C_T) on
    normalize(x[:, 0]): patch tokens and the token's scale do not matter."""
    projector = MODELS.build(
        dict(type='CLSTokenProjector', in_channels=4, out_channels=10))
    assert (projector.fc1.in_features, projector.fc1.out_features,
            projector.fc2.out_features) == (4, 7, 10)
    tokens = torch.randn(3, 5, 4)
    rescaled = torch.cat([3 * tokens[:, :1], torch.randn(3, 4, 4)], dim=1)
    expected = projector.fc2(
        F.gelu(projector.fc1(F.normalize(tokens[:, 0], dim=-1))))
    torch.testing.assert_close(projector(tokens), expected)
    torch.testing.assert_close(projector(rescaled), expected)


def test_projector_is_shared_by_all_layers():
    """A list of blocks is projected with one set of parameters, and the
    loss of every layer reaches those parameters."""
    projector = MODELS.build(
        dict(type='CLSTokenProjector', in_channels=4, out_channels=6))
    assert len(list(projector.parameters())) == 4
    blocks = [torch.randn(2, 5, 4) for _ in range(3)]
    projected = projector(blocks)
    assert len(projected) == 3
    for index, proj in enumerate(projected):
        torch.testing.assert_close(proj, projector(blocks[index]))
        projector.zero_grad()
        proj.square().sum().backward(retain_graph=True)
        assert projector.fc1.weight.grad.abs().sum() > 0


def _tiny_vit(num_layers=3):
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    return PRETRAIN_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='VisionTransformer',
                arch=dict(
                    embed_dims=16,
                    num_layers=num_layers,
                    num_heads=2,
                    feedforward_channels=32),
                img_size=32,
                patch_size=8,
                out_type='raw'),
            head=None))


def test_layer_recorder_gives_block_outputs_before_the_final_norm():
    """Records follow `indices` order, are (B, 1+P, C), and the last
    block's record is what the final norm (ln1) normalises."""
    model = _tiny_vit()
    recorder = TASK_UTILS.build(
        dict(
            _scope_='mmrazor',
            type='LayerOutputsRecorder',
            source='backbone.layers',
            indices=(2, 0)))
    recorder.initialize(model)
    with recorder:
        (output, ) = model.backbone(torch.randn(2, 3, 32, 32))
    last, first = recorder.get_record_data()
    assert last.shape == first.shape == (2, 17, 16)
    assert not torch.allclose(last, output)
    torch.testing.assert_close(model.backbone.ln1(last), output)


def test_layer_recorder_names_missing_layers():
    model = _tiny_vit(num_layers=2)
    recorder = TASK_UTILS.build(
        dict(
            _scope_='mmrazor',
            type='LayerOutputsRecorder',
            source='backbone.layers',
            indices=(0, 1, 8)))
    with pytest.raises(ValueError, match=r'has 2 layers: indices \[8\]'):
        recorder.initialize(model)


# --- FrozenTeacherDistill on tiny ViTs ----------------------------------


def _tiny_model_cfg(**overrides):
    cfg = Config.fromfile(TINY_CONFIG)
    model = copy.deepcopy(cfg.model.to_dict())
    model['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    model.update(overrides)
    return model


def _build(**overrides):
    torch.manual_seed(0)
    init_default_scope('mmpretrain')
    return MODELS.build(_tiny_model_cfg(**overrides))


def _data(n=4):
    generator = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, 32, 32), generator=generator, dtype=torch.uint8)
            for _ in range(n)
        ],
        data_samples=[DataSample().set_gt_label(i % 4) for i in range(n)])


def test_step_gives_every_term_and_runs_the_teacher_frozen_on_mixed_inputs():
    """All six terms, finite and non-zero; no student task loss (alpha 1);
    the teacher runs in eval mode under no_grad on exactly the student's
    (mixed) input."""
    model = _build()
    model.train()
    assert not any(module.training for module in model.teacher.modules())
    seen = {}

    def record_input(role):

        def hook(module, args):
            seen[role] = (args[0], torch.is_grad_enabled())

        return hook

    for role in ('student', 'teacher'):
        getattr(model,
                role).backbone.register_forward_pre_hook(record_input(role))
    data = _data()
    batch = model.data_preprocessor(data, True)
    plain = model.data_preprocessor(data, False)['inputs']
    losses = model(**batch, mode='loss')
    assert set(losses) == LOSS_NAMES
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    torch.testing.assert_close(seen['teacher'][0], seen['student'][0])
    assert not torch.allclose(seen['student'][0], plain)
    assert seen['teacher'][1] is False and seen['student'][1] is True


def test_student_task_loss_is_optional():
    model = _build(calculate_student_loss=True)
    losses = model(**model.data_preprocessor(_data(), True), mode='loss')
    assert set(losses) == LOSS_NAMES | {'student.loss'}


def test_projector_is_trained_by_the_optimizer_and_teacher_is_not():
    """The projector is a distiller connector: its parameters are the
    algorithm's, the OptimWrapper updates them; the teacher is untouched."""
    model = _build()
    model.train()
    optim_wrapper = build_optim_wrapper(
        model,
        Config.fromfile(TINY_CONFIG).optim_wrapper)
    projector = model.distiller.connectors['cls_proj']
    optimized = {
        id(p)
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert all(id(p) in optimized for p in projector.parameters())
    before = copy.deepcopy(projector.state_dict())
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    model.train_step(_data(), optim_wrapper)
    assert not torch.equal(projector.fc1.weight, before['fc1.weight'])
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key
    assert all(p.grad is None for p in model.teacher.parameters())


def test_teacher_checkpoint_is_loaded_strictly(tmp_path):
    source = _build()
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=source.teacher.state_dict()), path)
    loaded = _build(teacher_ckpt=path)
    torch.testing.assert_close(loaded.teacher.backbone.cls_token,
                               source.teacher.backbone.cls_token)
    torch.save(dict(state_dict=source.student.state_dict()), path)
    with pytest.raises(ValueError, match='shape mismatches'):
        _build(teacher_ckpt=path)


def test_class_count_mismatch_is_refused():
    teacher = _tiny_model_cfg()['teacher']
    teacher['head']['num_classes'] = 7
    with pytest.raises(ValueError, match='4 classes and the teacher 7'):
        _build(teacher=teacher)


# --- the ImageNet configs -----------------------------------------------


@pytest.mark.slow
def test_imagenet_configs_build_deit_models_with_the_recipe():
    """DeiT-T config at real size: DeiT-Base teacher with MMPretrain's
    DeiT-Base weights, 8 recorded block pairs, one 192->480->768 projector,
    the authors' loss weights, mixup/cutmix, repeated augmentation, AdamW
    5e-4 at 512, the student in timm's init. DeiT-S config: a 384-wide
    student and projector."""
    cfg = Config.fromfile(DEIT_T_CONFIG)
    assert 'deit-base_3rdparty_pt-16xb64_in1k' in cfg.model.teacher_ckpt
    model_cfg = cfg.model.to_dict()
    model_cfg.update(
        teacher_ckpt=None, data_preprocessor=cfg.data_preprocessor.to_dict())
    init_default_scope('mmpretrain')
    model = MODELS.build(model_cfg)
    assert model.student.backbone.embed_dims == 192
    assert model.teacher.backbone.embed_dims == 768
    for side in ('student', 'teacher'):
        recorder = getattr(model.distiller,
                           f'{side}_recorders').get_recorder('tokens')
        assert recorder.indices == (0, 1, 2, 3, 8, 9, 10, 11)
    projector = model.distiller.connectors['cls_proj']
    assert (projector.fc1.in_features, projector.fc1.out_features,
            projector.fc2.out_features) == (192, 480, 768)
    weights = {
        name: loss.loss_weight
        for name, loss in model.distiller.distill_losses.items()
    }
    assert weights == dict(
        loss_kd=1.0,
        loss_cls=1.0,
        loss_atn=2.0,
        loss_mf_sample=0.1,
        loss_mf_patch=4.0,
        loss_mf_rand=0.2)
    assert model.distiller.distill_losses['loss_mf_rand'].num_samples == 192
    assert not model.calculate_student_loss
    assert [
        type(aug).__name__
        for aug in model.data_preprocessor.batch_augments.augments
    ] == ['Mixup', 'CutMix']
    assert cfg.train_dataloader.sampler.type == 'RepeatAugSampler'
    # the authors' timm init: FFN and classifier N(0, 0.02), class token too
    model.student.init_weights()
    fc1 = model.student.backbone.layers[0].ffn.layers[0][0]
    assert fc1.weight.std().item() == pytest.approx(0.02, rel=0.01)
    assert model.student.head.layers.head.weight.std().item() == (
        pytest.approx(0.02, rel=0.01))
    assert model.student.backbone.cls_token.abs().min() > 0
    assert (cfg.optim_wrapper.optimizer.lr, cfg.auto_scale_lr.base_batch_size,
            cfg.train_cfg.max_epochs) == (5e-4, 512, 300)
    del model

    small = Config.fromfile(DEIT_S_CONFIG)
    init_default_scope('mmpretrain')
    student = MODELS.build(small.model.architecture.to_dict())
    assert student.backbone.embed_dims == 384 == (
        small.model.distiller.connectors.cls_proj.in_channels)
    assert small.model.teacher == cfg.model.teacher


@pytest.mark.slow
def test_tiny_stand_ins_train_through_the_imagenet_config(
        tmp_path, image_folder):
    """Runner + the ImageNet config with tiny stand-ins: a short epoch of
    training (recipe transforms, mixup/cutmix, repeated augmentation) logs
    every term finite, then validates student and teacher."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.merge_from_dict(
        dict(
            option.split('=', 1)
            for option in data_root_options(image_folder)))
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    for name in LOSS_NAMES:
        values, _ = runner.message_hub.get_scalar(f'train/{name}').data
        assert len(values) == 3 and all(
            map(torch.isfinite, torch.tensor(values))), name
    assert runner.message_hub.get_scalar('train/distill.loss_kd').current() > 0
    assert {'val/accuracy/top1',
            'val/teacher.accuracy/top1'} <= set(runner.message_hub.log_scalars)
