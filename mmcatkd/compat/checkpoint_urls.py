"""MMEngine 0.10.7 loads checkpoint URLs with weights_only off, which runs
code from the download; they go through safe_torch_load.

For: MMEngine 0.10.7, whose ``load_from_http`` (behind its http(s)://,
``torchvision://`` and ``open-mmlab://`` schemes) calls
``torch.hub.load_state_dict_from_url`` without ``weights_only``, whose
default there is off (still on torch 2.14).

Symptom without it: a model-zoo teacher or ``load_from`` URL is unpickled
with the full unpickler, so a malicious download runs code; nothing fails.

Detection, and how to tell it can go: :func:`mmengine_loads_urls_unsafely`
reads the ``weights_only`` default of the function MMEngine downloads with.
Where that default is on (or MMEngine passes it), :func:`apply` does nothing
and this module can be deleted.
"""
import inspect
import os
import os.path as osp
from urllib.error import HTTPError, URLError

import torch

from ..utils.checkpoint import safe_torch_load
from ..utils.errors import DownloadError

NAME = 'safe-checkpoint-urls'


def mmengine_loads_urls_unsafely() -> bool:
    """Whether MMEngine downloads checkpoint URLs into a loader that runs
    code from the pickle (``weights_only`` not on by default)."""
    from mmengine.runner.checkpoint import load_url
    weights_only = inspect.signature(load_url).parameters.get('weights_only')
    return weights_only is None or weights_only.default is not True


def download_checkpoint(url: str, model_dir=None, progress=True) -> str:
    """Path of ``url`` in torch.hub's checkpoint cache, downloaded if absent.

    In a distributed run rank 0 downloads first and the others wait.

    Raises:
        DownloadError: the download failed (no network, an HTTP error); the
            message names the URL and where to put the file instead.
    """
    from urllib.parse import urlparse

    from mmengine.dist import barrier, get_dist_info
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached_file = osp.join(model_dir, osp.basename(urlparse(url).path))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached_file):
        os.makedirs(model_dir, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, cached_file, progress=progress)
        except (URLError, ConnectionError, TimeoutError) as err:
            raise _download_error(url, cached_file, err) from err
    if world_size > 1:
        barrier()
    return cached_file


def _download_error(url: str, cached_file: str, err: OSError) -> DownloadError:
    """The one sentence for a failed download: what failed, and how to
    give the file without downloading it."""
    if isinstance(err, HTTPError):
        what = f'the server answered {err.code} {err.reason}'
    else:
        reason = getattr(err, 'reason', None) or err
        what = f'the network is unreachable from this machine ({reason})'
    return DownloadError(
        f'could not download {url}: {what}; download it where there is '
        f'network and put the file at {cached_file} (torch.hub\'s '
        'checkpoint cache, read without network; TORCH_HOME moves it).')


def load_from_http_safely(filename,
                          map_location=None,
                          model_dir=None,
                          progress=os.isatty(0)):
    """MMEngine's URL checkpoint loader, on :func:`safe_torch_load`."""
    return safe_torch_load(
        download_checkpoint(filename, model_dir, progress), map_location)


def apply() -> bool:
    """Make MMEngine load checkpoint URLs with :func:`load_from_http_safely`
    where it would load them unsafely; whether it did. Covers its http(s)
    scheme and the ``torchvision://`` and ``open-mmlab://`` schemes, which
    call ``load_from_http`` by name."""
    if not mmengine_loads_urls_unsafely():
        return False
    from mmengine.runner import checkpoint as mmengine_checkpoint
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_http_safely,
        force=True)
    mmengine_checkpoint.load_from_http = load_from_http_safely
    return True
