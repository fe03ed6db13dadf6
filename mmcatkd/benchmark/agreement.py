"""Does a CAT-KD step give the same numbers under a performance option?

One loss-and-backward of ``CATDistill`` (Guo et al., CVPR 2023, Eq. 6) on a
fixed batch, once as the reference (fp32, default layout, eager) and once
with the option (autocast fp16/bf16, ``channels_last``, ``torch.compile``),
from the same weights. Reported: the largest relative difference of each
logged loss and of the student's gradients (max |a - b| / max |b| per
tensor, the largest over tensors), and the cosine between the two flattened
gradients. Used by ``tests/cuda`` and ``tools/cuda_check.py``.
"""
import contextlib
from typing import Callable, Dict, Optional

import torch

# What each option must reach (stated in docs/performance.md): exact
# options agree to float rounding; mixed precision to its mantissa.
TOLERANCES = {
    'channels_last': dict(loss=1e-5, grad=1e-4, cosine=0.99999),
    'compile': dict(loss=1e-5, grad=1e-4, cosine=0.99999),
    'fp16': dict(loss=1e-2, grad=None, cosine=0.99),
    'bf16': dict(loss=3e-2, grad=None, cosine=0.95),
}


def _relative(value: torch.Tensor, reference: torch.Tensor) -> float:
    scale = reference.abs().max().clamp_min(1e-30)
    return ((value.float() - reference.float()).abs().max() / scale).item()


def loss_and_grads(model: torch.nn.Module,
                   inputs: torch.Tensor,
                   samples,
                   context: Optional[Callable] = None,
                   forward: Optional[Callable] = None) -> tuple:
    """Losses (detached, fp32) and student gradients of one step."""
    model.train()
    model.zero_grad(set_to_none=True)
    with (context or contextlib.nullcontext)():
        losses = (forward or model)(inputs, samples, mode='loss')
    sum(losses.values()).backward()
    grads = {
        name: param.grad.detach().float().clone()
        for name, param in model.student.named_parameters()
        if param.grad is not None
    }
    return {k: v.detach().float() for k, v in losses.items()}, grads


def compare(reference: tuple, other: tuple) -> Dict[str, float]:
    """Largest relative loss and gradient differences, gradient cosine."""
    losses_ref, grads_ref = reference
    losses, grads = other
    if set(losses) != set(losses_ref) or set(grads) != set(grads_ref):
        # a bug, not bad input: both steps ran the same variant's model
        raise ValueError('the two steps logged different losses or '
                         'reached different parameters.')
    flat_ref = torch.cat([g.flatten() for g in grads_ref.values()])
    flat = torch.cat([grads[name].flatten() for name in grads_ref])
    return dict(
        loss=max(_relative(losses[k], losses_ref[k]) for k in losses_ref),
        grad=max(_relative(grads[k], grads_ref[k]) for k in grads_ref),
        cosine=torch.nn.functional.cosine_similarity(flat, flat_ref,
                                                     dim=0).item())


def within(option: str, measured: Dict[str, float]) -> bool:
    """Whether ``measured`` meets :data:`TOLERANCES` of ``option``."""
    limits = TOLERANCES[option]
    return all(
        limits[key] is None or (measured[key] >= limits[key] if key ==
                                'cosine' else measured[key] <= limits[key])
        for key in limits)


def option_agreement(option: str, build: Callable[..., torch.nn.Module],
                     inputs: torch.Tensor, samples) -> Dict[str, float]:
    """Compare one step with ``option`` against the fp32 eager reference.

    Args:
        option (str): a key of :data:`TOLERANCES`.
        build (callable): ``build(channels_last=bool)`` returns a seeded
            CAT-KD algorithm on the device (the same weights every call).
        inputs (Tensor): the preprocessed batch (N, 3, H, W), fp32.
        samples (list): its data samples.
    """
    device = inputs.device
    reference = loss_and_grads(build(channels_last=False), inputs, samples)
    if option == 'channels_last':
        other = loss_and_grads(build(channels_last=True), inputs, samples)
    elif option == 'compile':
        model = build(channels_last=False)
        other = loss_and_grads(
            model, inputs, samples, forward=torch.compile(model))
    else:
        dtype = torch.float16 if option == 'fp16' else torch.bfloat16
        other = loss_and_grads(
            build(channels_last=False),
            inputs,
            samples,
            context=lambda: torch.autocast(device.type, dtype=dtype))
    measured = compare(reference, other)
    measured['met'] = within(option, measured)
    return measured
