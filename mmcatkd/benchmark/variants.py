"""The variants the benchmark times, each around one fixed batch.

All training variants run the real path, ``model.train_step(data,
optim_wrapper)`` with an MMEngine ``OptimWrapper`` around SGD, on a batch in
the format MMEngine's default ``pseudo_collate`` hands to the
``data_preprocessor`` (a list of uint8 images and labelled DataSamples), so
data loading is left out and preprocessing is in.
"""
import contextlib
import copy
import os.path as osp
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

from ..cam_cache import format as cache_format
from ..cam_cache.identity import teacher_cam_identity
from ..cam_cache.views import describe_views
from ..models.algorithms.model_cfg import resolve_cfg_path
from ..models.distillers.cam_distiller import CAM_RECORDER

LABELS = {
    'student': 'student alone (a)',
    'teacher': 'teacher forward (b)',
    'logit_kd': 'logit KD, MMRazor (c)',
    'catkd': 'CAT-KD (d)',
    'catkd_bin': 'CAT-KD binarised (e)',
    'catkd_cached': 'CAT-KD, cached CAMs (f)',
    'cam_loss': 'CAM + CAT loss of (d)',
    'cam_loss_bin': 'CAM + CAT loss of (e)',
}
TRAINING = ('student', 'logit_kd', 'catkd', 'catkd_bin', 'catkd_cached')


class Variant:
    """One thing to time: ``step()`` runs it once.

    Args:
        name (str): key in :data:`LABELS`.
        step (callable): one step, no arguments.
        modules (list[nn.Module]): the modules whose parameters and buffers
            the variant keeps resident.
        optim_wrapper (OptimWrapper, optional): its optimizer state counts
            as resident too.
    """

    def __init__(self,
                 name: str,
                 step: Callable[[], object],
                 modules: List[torch.nn.Module],
                 optim_wrapper: Optional[OptimWrapper] = None) -> None:
        self.name = name
        self.step = step
        self.modules = modules
        self.optim_wrapper = optim_wrapper
        self.times: Dict[str, List[float]] = dict(wall=[], cpu=[])
        self.step_memory: Optional[int] = None
        self.work: Optional[dict] = None

    def state_bytes(self) -> int:
        """Bytes of parameters, buffers and optimizer state."""
        tensors = [
            tensor for module in self.modules
            for tensor in (*module.parameters(), *module.buffers())
        ]
        if self.optim_wrapper is not None:
            for state in self.optim_wrapper.optimizer.state.values():
                tensors += [
                    value for value in state.values()
                    if isinstance(value, torch.Tensor)
                ]
        unique = {id(tensor): tensor for tensor in tensors}
        return sum(t.numel() * t.element_size() for t in unique.values())


def make_batch(batch_size: int,
               input_size: int,
               num_classes: int,
               seed: int = 0) -> dict:
    """Random uint8 (3, H, W) images and DataSamples with labels, on the
    CPU, as a dataloader with ``pseudo_collate`` delivers them."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(
        0,
        256, (batch_size, 3, input_size, input_size),
        dtype=torch.uint8,
        generator=generator)
    return dict(
        inputs=list(images.unbind(0)),
        data_samples=[
            DataSample().set_gt_label(index % num_classes)
            for index in range(batch_size)
        ])


def logit_kd_cfg(teacher: dict, student: dict) -> dict:
    """MMRazor's stock logit KD: KL (tau 4) between recorded fc outputs."""
    logits = dict(type='ModuleOutputs', source='head.fc')
    return dict(
        _scope_='mmrazor',
        type='SingleTeacherDistill',
        architecture=student,
        teacher=teacher,
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(fc=logits),
            teacher_recorders=dict(fc=logits),
            distill_losses=dict(
                loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
            loss_forward_mappings=dict(
                loss_kl=dict(
                    preds_S=dict(from_student=True, recorder='fc'),
                    preds_T=dict(from_student=False, recorder='fc')))))


def catkd_cfg(teacher: dict,
              student: dict,
              binarize: bool = False,
              channels_last: bool = False) -> dict:
    """CATDistill + CAMDistiller with the paper's r=2 CAT loss."""
    return dict(
        _scope_='mmrazor',
        type='CATDistill',
        architecture=student,
        teacher=teacher,
        channels_last=channels_last,
        distiller=dict(
            type='CAMDistiller',
            cat_loss=dict(loss_weight=1.0, resolution=2, binarize=binarize)))


def write_cache(folder: str,
                teacher: dict,
                student: dict,
                input_size: int,
                batch_size: int,
                seed: int = 0) -> dict:
    """A teacher-CAM cache of random fp16 values for the timing of (f).

    Its manifest names the seeded random teacher of the other variants
    (saved to ``folder``) and the student's data preprocessor, so that
    ``CachedCATDistill`` accepts it; it holds ``4 * batch_size`` images and
    CIFAR's 162 views (32 px and below) or 2 flips (larger inputs, whose
    real pipelines have no finite views; only the lookup's cost matters
    here). A lookup reads rows at random, as training does.

    Returns:
        dict: the ``CachedCATDistill`` arguments ``teacher_cams`` and
        ``teacher_ckpt``.
    """
    ckpt = osp.join(folder, 'teacher.pth')
    torch.save(
        dict(
            state_dict=build(teacher, torch.device('cpu'), seed).state_dict()),
        ckpt)
    num_classes = MODELS.build(copy.deepcopy(student)).head.num_classes
    steps = [dict(type='RandomFlip', prob=0.5)]
    if input_size <= 64:
        steps.insert(
            0, dict(type='ViewRandomCrop', crop_size=input_size, padding=4))
    manifest = cache_format.new_manifest(
        teacher_cam_identity(teacher, ckpt, student.get('data_preprocessor'),
                             'backbone', 'head', 2),
        num_classes=num_classes,
        dtype='float16',
        dataset=dict(type='benchmark', length=4 * batch_size, sha256=''),
        pipeline=dict(base=[], views=steps),
        views=describe_views(steps, (input_size, input_size)),
        chunk_images=4 * batch_size)
    array = cache_format.open_array(folder, manifest, 'w+')
    array[:] = np.random.default_rng(seed).standard_normal(
        array.shape, dtype=np.float32)
    array.flush()
    digest = cache_format.rows_digest(array)
    del array
    cache_format.write_manifest(folder, manifest)
    cache_format.mark_chunk_done(folder, 0, digest)
    return dict(teacher_cams=folder, teacher_ckpt=ckpt)


def with_views(data: dict,
               views: dict,
               num_images: int,
               seed: int = 0) -> dict:
    """``data`` whose samples name random images and views of a cache."""
    rng = np.random.default_rng(seed)
    samples = []
    for sample in data['data_samples']:
        sample = sample.clone()
        sample.set_metainfo(
            dict(
                sample_idx=int(rng.integers(num_images)),
                crop_offset=(int(rng.integers(views['offsets_h'])),
                             int(rng.integers(views['offsets_w']))),
                flip=bool(rng.choice(views['flips']))))
        samples.append(sample)
    return dict(inputs=data['inputs'], data_samples=samples)


def cached_catkd_cfg(teacher: dict,
                     student: dict,
                     cache: dict,
                     channels_last: bool = False) -> dict:
    """CachedCATDistill on ``cache`` (see :func:`write_cache`)."""
    cfg = catkd_cfg(teacher, student, False, channels_last)
    cfg.update(type='CachedCATDistill', **cache)
    return cfg


def build(cfg: dict, device: torch.device, seed: int = 0) -> torch.nn.Module:
    """Build ``cfg`` in MMRazor's registry (scopes as in configs) on device.

    PyTorch's default initialisation is kept: the weights' values do not
    change the cost of a step, and ``init_weights`` logs every tensor.
    """
    torch.manual_seed(seed)  # the same weights in every variant
    return MODELS.build(cfg).to(device)


def autocast(device: torch.device, amp: bool, in_optim_wrapper: bool):
    """The autocast context a step needs.

    On CUDA, MMEngine's ``AmpOptimWrapper`` autocasts training steps by
    itself (fp16); everything else gets an explicit context: fp16 on CUDA,
    bf16 on the CPU, where ``AmpOptimWrapper`` refuses to run.
    """
    if not amp or (device.type == 'cuda' and in_optim_wrapper):
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == 'cuda' else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)


def training_variant(name: str,
                     model: torch.nn.Module,
                     data: dict,
                     device: torch.device,
                     amp: bool = False,
                     compile_step: bool = False) -> Variant:
    """``model.train_step(data, optim_wrapper)`` with SGD."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    # A small learning rate keeps many steps on random data finite: a NaN
    # or denormal would change the speed of the arithmetic.
    optimizer = torch.optim.SGD(
        params, lr=1e-3, momentum=0.9, weight_decay=5e-4)
    if amp and device.type == 'cuda':
        optim_wrapper = AmpOptimWrapper(optimizer=optimizer, dtype='float16')
    else:
        optim_wrapper = OptimWrapper(optimizer=optimizer)
    train_step = model.train_step
    if compile_step:
        # What MMEngine's Runner does for ``compile=True``.
        train_step = torch.compile(train_step)

    def step():
        with autocast(device, amp, in_optim_wrapper=True):
            return train_step(data, optim_wrapper)

    return Variant(name, step, [model], optim_wrapper)


def teacher_variant(model: torch.nn.Module,
                    data: dict,
                    device: torch.device,
                    amp: bool = False,
                    compile_step: bool = False) -> Variant:
    """The teacher's whole forward (head included), eval mode, no_grad, on
    the batch preprocessed once beforehand: added to the student's step,
    which preprocesses, it is the least a distillation step can cost."""
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(data, False)['inputs']
    forward = torch.compile(model) if compile_step else model

    def step():
        with torch.no_grad(), autocast(device, amp, in_optim_wrapper=False):
            return forward(inputs, mode='tensor')

    return Variant('teacher', step, [model])


def cam_loss_variant(name: str,
                     algorithm: torch.nn.Module,
                     data: dict,
                     device: torch.device,
                     amp: bool = False) -> Variant:
    """CAT-KD's own work in a step, alone.

    Backbone outputs of both models are recorded once; each step then runs
    both CAM recorders' hooks on them (teacher under no_grad, as in the
    step), the distiller's ``compute_distill_losses`` and the backward of
    the CAT loss to the student's features and classifier.
    """
    distiller = algorithm.distiller
    student, teacher = algorithm.student, algorithm.teacher
    with torch.no_grad():
        inputs = algorithm.data_preprocessor(data, True)['inputs']
        feats_T = teacher.backbone(inputs)
        feats_S = student.backbone(inputs)
    recorder_S = distiller.student_recorders.recorders[CAM_RECORDER]
    recorder_T = distiller.teacher_recorders.recorders[CAM_RECORDER]

    def step():
        feat_S = feats_S[-1].detach().requires_grad_()
        with autocast(device, amp, in_optim_wrapper=False):
            with distiller.student_recorders, distiller.teacher_recorders:
                with torch.no_grad():
                    recorder_T.forward_hook(teacher.backbone, (inputs, ),
                                            feats_T)
                recorder_S.forward_hook(student.backbone, (inputs, ),
                                        (feat_S, ))
            losses = distiller.compute_distill_losses()
        sum(losses.values()).backward()
        for param in student.head.fc.parameters():  # bias-free heads too
            param.grad = None

    return Variant(name, step, [])


def build_variants(teacher_cfg: str,
                   student_cfg: str,
                   data: dict,
                   device: torch.device,
                   amp: bool = False,
                   channels_last: bool = False,
                   compile_step: bool = False,
                   cache_dir: Optional[str] = None) -> Dict[str, Variant]:
    """All variants of a pair, named as in :data:`LABELS`, in timing order.

    Args:
        teacher_cfg (str): a model config file (defines ``model``).
        student_cfg (str): likewise for the student.
        data (dict): the batch, see :func:`make_batch`.
        device (torch.device): where the models live.
        amp (bool): mixed precision (fp16 on CUDA, bf16 on the CPU).
        channels_last (bool): models (and, for CAT-KD, its inputs) in
            channels_last; the baselines convert their models.
        compile_step (bool): ``torch.compile`` each training step and the
            teacher's forward.
        cache_dir (str, optional): an empty folder for the teacher-CAM
            cache of (f); without it (f) is left out.
    """
    teacher = resolve_cfg_path(dict(cfg_path=teacher_cfg))
    student = resolve_cfg_path(dict(cfg_path=student_cfg))
    memory_format = (
        torch.channels_last if channels_last else torch.preserve_format)

    def baseline(cfg):
        return build(cfg, device).to(memory_format=memory_format)

    catkd = build(catkd_cfg(teacher, student, False, channels_last), device)
    catkd_bin = build(catkd_cfg(teacher, student, True, channels_last), device)
    variants = [
        training_variant('student', baseline(student), data, device, amp,
                         compile_step),
        teacher_variant(baseline(teacher), data, device, amp, compile_step),
        training_variant('logit_kd', baseline(logit_kd_cfg(teacher, student)),
                         data, device, amp, compile_step),
        training_variant('catkd', catkd, data, device, amp, compile_step),
        training_variant('catkd_bin', catkd_bin, data, device, amp,
                         compile_step),
    ]
    if cache_dir is not None:
        input_size = data['inputs'][0].shape[-1]
        cache = write_cache(cache_dir, teacher, student, input_size,
                            len(data['inputs']))
        cached = build(
            cached_catkd_cfg(teacher, student, cache, channels_last), device)
        cached.dataset_verified = True  # no dataset here: nothing to check
        variants.append(
            training_variant(
                'catkd_cached', cached,
                with_views(data, cached.cache.views,
                           cached.cache.manifest['dataset']['length']), device,
                amp, compile_step))
    variants += [
        cam_loss_variant('cam_loss', catkd, data, device, amp),
        cam_loss_variant('cam_loss_bin', catkd_bin, data, device, amp),
    ]
    return {variant.name: variant for variant in variants}
