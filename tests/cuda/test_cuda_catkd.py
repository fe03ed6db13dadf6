"""The CUDA tier (`make test-cuda`): what only a GPU can show.

Every test here needs a CUDA device and is skipped without one (a hardware
condition, not a missing feature). The same checks at full size, with
timings, are tools/cuda_check.py.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper
from mmrazor.registry import MODELS

from mmcatkd.benchmark.agreement import TOLERANCES, option_agreement
from tests.conftest import TEST_CONFIGS

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device')
]


@pytest.fixture(autouse=True)
def no_tf32():
    """Exact comparisons need fp32 convolutions and matmuls, not TF32."""
    saved = (torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    (torch.backends.cudnn.allow_tf32,
     torch.backends.cuda.matmul.allow_tf32) = saved


def _build(channels_last=False):
    cfg = Config.fromfile(osp.join(TEST_CONFIGS, 'catkd_tiny.py'))
    model = copy.deepcopy(cfg.model.to_dict())
    model['data_preprocessor'] = cfg.data_preprocessor.to_dict()
    model['channels_last'] = channels_last
    torch.manual_seed(0)
    return MODELS.build(model).cuda()


def _batch(n=8):
    from mmpretrain.structures import DataSample
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(n, 3, 32, 32, generator=generator).cuda()
    return images, [DataSample().set_gt_label(i % 4) for i in range(n)]


@pytest.mark.parametrize('option', sorted(TOLERANCES))
def test_catkd_step_under_each_option_equals_fp32_eager(option):
    """One CAT-KD loss and backward with channels_last, torch.compile
    (inductor), fp16 or bf16 autocast gives the fp32 eager losses and
    student gradients within the stated tolerances (exact options: 1e-5
    loss, 1e-4 gradient; fp16 1e-2 and bf16 3e-2 loss, gradient cosine
    0.99 / 0.95)."""
    measured = option_agreement(option, _build, *_batch())
    assert measured['met'], measured


def test_amp_optim_wrapper_step_trains_the_student_only():
    """MMEngine's AmpOptimWrapper (fp16, dynamic loss scale) around a
    CAT-KD train_step: finite losses, the student's weights move, the
    teacher's stay bit-identical."""
    model = _build()
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    student_before = model.student.backbone.conv1.weight.detach().clone()
    wrapper = AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1),
        dtype='float16')
    images, samples = _batch()
    data = dict(
        inputs=list((images * 40 + 128).clamp(0, 255).byte().cpu()),
        data_samples=samples)
    losses = model.train_step(data, wrapper)
    assert all(torch.isfinite(v) for v in losses.values())
    assert not torch.equal(student_before, model.student.backbone.conv1.weight)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key


def test_cached_catkd_on_cuda_equals_the_online_teacher(tmp_path):
    """The cache built on the GPU, looked up on the GPU: CE, CAT loss and
    student gradients equal the online CAT-KD step's within 1e-5."""
    from tests.cam_cache import helpers
    torch.manual_seed(3)
    cfg = Config.fromfile(helpers.CONFIG)
    from mmcatkd.models.algorithms.model_cfg import resolve_cfg_path
    teacher = MODELS.build(resolve_cfg_path(cfg.model.teacher.to_dict()))
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    from mmcatkd.cam_cache import CacheBuilder
    folder = str(tmp_path / 'cams')
    CacheBuilder(
        helpers.config_of(ckpt), folder, 'float32',
        device='cuda').build(log=lambda line: None)
    online = helpers.build_algorithm(helpers.config_of(ckpt)).cuda()
    cached = helpers.cached_algorithm(ckpt, folder).cuda()
    cached.student.load_state_dict(online.student.state_dict())
    inputs, samples = helpers.train_batch(helpers.config_of(ckpt), online)
    assert inputs.is_cuda
    reference = helpers.losses_and_grads(online, inputs, samples)
    result = helpers.losses_and_grads(cached, inputs, samples)
    for key in reference[0]:
        assert helpers.relative(result[0][key], reference[0][key]) <= 1e-5
    for name, grad in reference[1].items():
        assert helpers.relative(result[1][name], grad) <= 1e-5, name
