"""The speed options of a CAT-KD step keep its results: channels_last, AMP
with the CAT loss in fp32, torch.compile, one data preprocessing per step."""

import pytest
import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from tests.conftest import build_model, random_batch

NUM_CLASSES = 4


def _build(**overrides):
    return build_model('catkd_tiny.py', **overrides)


_batch = random_batch


def _losses_and_grad(model):
    losses = model(*_batch(), mode='loss')
    sum(losses.values()).backward()
    return ({
        key: value.detach()
        for key, value in losses.items()
    }, model.student.backbone.conv1.weight.grad.contiguous())


def test_channels_last_gives_the_default_losses_and_gradients():
    """CATDistill(channels_last=True) computes the same student CE, CAT loss
    and student gradient as the default layout (float rounding only)."""
    default_losses, default_grad = _losses_and_grad(_build())
    fast_losses, fast_grad = _losses_and_grad(_build(channels_last=True))
    assert set(fast_losses) == set(default_losses)
    for key in default_losses:
        torch.testing.assert_close(
            fast_losses[key], default_losses[key], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast_grad, default_grad, rtol=1e-4, atol=1e-6)


def test_channels_last_reaches_weights_and_inputs():
    """With channels_last, every conv weight of student and teacher is in
    channels_last after init_weights, and both backbones receive a
    channels_last batch; without it nothing is converted."""
    channels_last = torch.channels_last
    for enabled in (True, False):
        model = _build(channels_last=enabled)
        model.init_weights()
        # 1x1 kernels are contiguous in both layouts: look at the others.
        layouts = {
            module.weight.is_contiguous(memory_format=channels_last)
            and not module.weight.is_contiguous()
            for module in model.modules()
            if isinstance(module, torch.nn.Conv2d) and module.kernel_size != (
                1, 1)
        }
        assert layouts == {enabled}
        seen = []
        for backbone in (model.student.backbone, model.teacher.backbone):
            backbone.register_forward_pre_hook(
                lambda module, args: seen.append(args[0].is_contiguous(
                    memory_format=channels_last)))
        model(*_batch(), mode='loss')
        assert seen == [enabled, enabled]


@pytest.mark.parametrize('options', [
    dict(),
    dict(normalize=False, resolution=4),
    dict(binarize=True),
    dict(num_selected=2, selection='bottom'),
])
def test_cat_loss_under_bf16_autocast_is_the_fp32_loss(options):
    """Under bf16 autocast, CATLoss given bf16 CAMs returns an fp32 loss
    equal to the fp32 loss of the same CAMs cast to fp32: pooling,
    normalising and squaring happen in fp32, not in bf16."""
    loss = MODELS.build(dict(type='CATLoss', **options))
    generator = torch.Generator().manual_seed(0)
    cams_S = torch.randn(2, 4, 8, 8, generator=generator).bfloat16()
    cams_T = (3 * torch.randn(2, 4, 8, 8, generator=generator)).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        mixed = loss(cams_S, cams_T)
    reference = loss(cams_S.float(), cams_T.float())
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, reference, rtol=1e-6, atol=1e-7)


def test_cat_loss_gradient_returns_in_the_cams_dtype():
    """The fp32 loss still sends the student's bf16 CAMs a bf16 gradient,
    so an autocast backward stays in the dtypes autograd expects."""
    loss = MODELS.build(dict(type='CATLoss'))
    cams_S = torch.randn(2, 4, 4, 4).bfloat16().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        value = loss(cams_S, torch.randn(2, 4, 4, 4).bfloat16())
    value.backward()
    assert cams_S.grad.dtype == torch.bfloat16
    assert cams_S.grad.abs().sum() > 0


def test_catkd_step_under_autocast_logs_the_fp32_loss_of_its_cams():
    """A whole CAT-KD forward under bf16 autocast: the recorded CAMs come
    out of bf16 convolutions, and the logged CAT loss is the fp32 loss of
    exactly those CAMs."""
    model = _build()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        logged = model(*_batch(), mode='loss')['distill.loss_cat']
    cams = {
        side: recorders.recorders['cam'].get_record_data().float()
        for side, recorders in (('S', model.distiller.student_recorders),
                                ('T', model.distiller.teacher_recorders))
    }
    assert model.distiller.student_recorders.recorders['cam'].get_record_data(
    ).dtype == torch.bfloat16
    reference = model.distiller.distill_losses['loss_cat'](cams['S'],
                                                           cams['T'])
    assert logged.dtype == torch.float32
    torch.testing.assert_close(logged, reference, rtol=1e-6, atol=1e-7)


def test_data_preprocessor_runs_once_per_train_step():
    """One train_step preprocesses the batch once: the algorithm's
    preprocessor runs once, the student's and the teacher's never."""
    model = _build()
    calls = []
    for name, module in model.named_modules(remove_duplicate=False):
        if isinstance(module, BaseDataPreprocessor):
            module.register_forward_hook(
                lambda module, args, output, name=name: calls.append(name))
    images, samples = _batch()
    data = dict(
        inputs=list((images * 40 + 128).clamp(0, 255).byte()),
        data_samples=samples)
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.student.parameters(), lr=0.01))
    model.train_step(data, optim_wrapper)
    assert calls == ['data_preprocessor']


@pytest.mark.slow
def test_compiled_forward_gives_the_eager_losses():
    """torch.compile (dynamo, eager backend: no C compiler in the test)
    traces the CAT-KD loss forward, recorder hooks and contexts included,
    and returns the eager losses. Inductor on the whole train_step is
    ``tools/benchmark.py --compile`` (minutes on this CPU)."""
    model = _build()
    images, samples = _batch()
    eager = model(images, samples, mode='loss')
    compiled = torch.compile(
        model, backend='eager')(
            images, samples, mode='loss')
    assert set(compiled) == set(eager)
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key])


def test_cat_loss_does_not_pool_maps_already_at_its_resolution():
    """Pooled-first CAMs (r x r) reach CATLoss already pooled: forward and
    backward dispatch no adaptive pooling; larger maps are still pooled."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class PoolCalls(TorchDispatchMode):

        def __init__(self):
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.count += 'adaptive_avg_pool2d' in str(func)
            return func(*args, **(kwargs or {}))

    loss = MODELS.build(dict(type='CATLoss', resolution=2))
    for size, expected in ((2, 0), (4, 3)):
        cams_S = torch.randn(2, 4, size, size, requires_grad=True)
        with PoolCalls() as calls:
            loss(cams_S, torch.randn(2, 4, size, size)).backward()
        assert calls.count == expected
