"""Computing a loss in fp32 while the rest of the step runs under AMP.

Under AMP, features arrive in fp16/bf16: a loss pooled, normalised or squared
there keeps two or three significant digits (and a squared fp16 norm can
overflow), while computing it in fp32 costs nothing next to the step.
"""
import torch


def at_least_fp32(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` in fp32 if it is in a half-precision dtype, else as is."""
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor


def fp32_region(tensor: torch.Tensor) -> torch.autocast:
    """A context with autocast off on ``tensor``'s device: operations on fp32
    inputs stay in fp32 inside it."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)
