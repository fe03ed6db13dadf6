"""MMEngine 0.10.7's pytorch launcher assumes CUDA; without it the process
group starts on gloo and DDP gets device_ids=None.

For: MMEngine 0.10.7 (``mmengine.dist.utils._init_dist_pytorch`` and
``MMDistributedDataParallel``) on a machine without CUDA.

Symptom without it: ``tools/dist_train.sh CONFIG 2`` (``--launcher
pytorch``) on a CPU-only machine fails in ``init_dist``, which calls
``torch.cuda.set_device``, and then in DDP, which the Runner builds with
``device_ids=[LOCAL_RANK]``; PyTorch needs ``device_ids=None`` for CPU
modules, and NCCL needs CUDA.

Detection, and how to tell it can go: ``torch.cuda.is_available()``. With
CUDA, :func:`apply` does nothing; once MMEngine's launcher starts gloo and
CPU DDP by itself (its ``_init_dist_pytorch`` no longer calls
``torch.cuda.set_device`` unconditionally), this module can be deleted.
"""
import torch

NAME = 'cpu-distributed'


def apply() -> bool:
    """Start MMEngine's ``pytorch`` launcher on gloo and build its DDP
    wrapper with ``device_ids=None`` where there is no CUDA; whether it
    did."""
    if torch.cuda.is_available():
        return False
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    def init_dist_pytorch_cpu(backend, init_backend='torch', **kwargs):
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend!r} needs CUDA.')
        torch_dist.init_process_group(
            backend='gloo' if backend == 'nccl' else backend, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch_cpu

    ddp_init = MMDistributedDataParallel.__init__
    if not getattr(ddp_init, '_mmcatkd_cpu', False):

        def ddp_init_cpu(self, module, *args, **kwargs):
            kwargs['device_ids'] = None
            ddp_init(self, module, *args, **kwargs)

        ddp_init_cpu._mmcatkd_cpu = True
        MMDistributedDataParallel.__init__ = ddp_init_cpu
    return True
