"""Every process validates and saves the same model: rank 0's buffers."""
from typing import Iterable, List, Optional

import torch
import torch.distributed as dist
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


def broadcast_buffers(buffers: Iterable[torch.Tensor], src: int = 0) -> None:
    """Copy process ``src``'s values of ``buffers`` into every process's,
    one collective per (device, dtype) group (what DDP does before each
    training forward)."""
    groups = {}
    for buffer in buffers:
        groups.setdefault((buffer.device, buffer.dtype), []).append(buffer)
    nccl = dist.get_backend() == 'nccl'
    for (device, _), group in groups.items():
        flat = _flatten_dense_tensors([buffer.data for buffer in group])
        if nccl and device.type == 'cpu':  # e.g. an EMA model kept on CPU
            flat = flat.cuda()
        dist.broadcast(flat, src)
        for buffer, value in zip(group, _unflatten_dense_tensors(flat, group)):
            buffer.data.copy_(value.to(device))


@HOOKS.register_module()
class BroadcastBuffersHook(Hook):
    """After each training iteration, every process takes rank 0's buffers
    (BatchNorm running statistics), so that the checkpoint, which only rank
    0 writes, and the validation, which every process runs on its share of
    the data, see the same model.

    DDP (``broadcast_buffers=True``, its default) copies rank 0's buffers
    to the others before each training forward, and each process then
    updates them with its own batch: after a step they differ. Validation
    runs each process's own (MMEngine's ``val_step`` bypasses DDP's
    forward), the checkpoint holds rank 0's, so the logged accuracy was not
    the saved model's. MMEngine's ``SyncBuffersHook`` averages the buffers
    in ``after_train_epoch`` or ``before_val_epoch``: an iteration-based
    run saves its checkpoint in ``after_train_iter``, before that, and the
    average is not what the next forward uses. Broadcasting after every
    iteration changes nothing in training (DDP's next forward does the
    same), costs one small collective per step, and covers checkpoints by
    epoch or by iteration and validation after either. The buffers of an
    ``EMAHook``'s averaged model, copied from each process's own model,
    are broadcast too.

    Priority ``LOW``: after ``EMAHook``'s update (``NORMAL``), before the
    checkpoint hook (``VERY_LOW``). Does nothing in a single process.
    """

    priority = 'LOW'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not is_distributed():
            return
        buffers: List[torch.Tensor] = list(runner.model.buffers())
        for hook in runner.hooks:
            ema_model = getattr(hook, 'ema_model', None)
            if isinstance(ema_model, torch.nn.Module):
                buffers += list(ema_model.buffers())
        broadcast_buffers(buffers)
