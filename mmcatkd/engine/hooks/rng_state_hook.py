"""Save and restore the random number generators with each checkpoint.

MMEngine seeds the generators once, when the Runner starts, and does not
save their states: a resumed run draws different random numbers (data
augmentation, dropout, drop-path) than the run it continues. What has to be
restored for an epoch-based run to continue exactly:

- python ``random``, numpy's global generator and torch's CPU generator
  (and CUDA's, one per device), which transforms and models draw from;
- the sampler order needs nothing: MMEngine's ``DefaultSampler`` shuffles
  with a generator seeded by ``seed + epoch`` (the epoch is set by
  ``DistSamplerSeedHook``), and the Runner restores ``seed`` on resume;
- dataloader workers (``num_workers > 0``) need nothing either: MMEngine's
  ``worker_init_fn`` reseeds every worker from ``seed``, its rank and worker
  id each time workers start, i.e. every epoch unless
  ``persistent_workers=True`` (then workers live across epochs, their
  generators cannot be saved, and random augmentation after a resume
  differs from an uninterrupted run).
"""
import random
from contextlib import contextmanager
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

CHECKPOINT_KEY = 'rng_states'


def capture_rng_state() -> Dict:
    """This process's generator states, as values the weights_only loader
    reads (tuples, ints, floats, strings, tensors; no numpy arrays)."""
    numpy_state = np.random.get_state(legacy=False)
    numpy_state['state'] = dict(
        numpy_state['state'],
        key=torch.from_numpy(numpy_state['state']['key'].astype(np.int64)))
    state = dict(
        python=random.getstate(),
        numpy=numpy_state,
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Dict) -> None:
    """Put the generators back into a state from :func:`capture_rng_state`.

    CUDA states are restored only when the device count matches.
    """
    random.setstate(state['python'])
    numpy_state = dict(state['numpy'])
    numpy_state['state'] = dict(
        numpy_state['state'],
        key=numpy_state['state']['key'].numpy().astype(np.uint32))
    np.random.set_state(numpy_state)
    torch.set_rng_state(state['torch'])
    cuda_states = state.get('cuda')
    if (cuda_states is not None and torch.cuda.is_available()
            and len(cuda_states) == torch.cuda.device_count()):
        torch.cuda.set_rng_state_all(cuda_states)


@contextmanager
def preserved_rng_state():
    """Run a block without changing what the generators produce afterwards."""
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue an epoch-based run with the same randomness.

    At the end of each training epoch (before ``CheckpointHook``, which has
    priority ``VERY_LOW``) the generator states of every rank are taken;
    the checkpoint saved at that epoch stores them under
    ``checkpoint['rng_states']`` as ``dict(epoch=E, states=[one per
    rank])``. At the start of the next training epoch they are put back:

    - after ``--resume``, from the checkpoint, so epoch E+1 draws exactly
      what it drew in the run that was interrupted;
    - in an uninterrupted run, from the snapshot, so that validation (which
      runs between the checkpoint and the next epoch, and is skipped after a
      resume) does not shift the training stream.

    States of a different world size are not restored (a warning says so):
    the shards differ anyway. Iteration-based loops are left alone: their
    resume replays the dataloader and is not exact. ``load_from`` (no
    resume) leaves the generators as seeded.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._snapshot: Optional[Dict] = None  # end of the last epoch
        self._loaded: Optional[Dict] = None  # from a resumed checkpoint

    def after_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            return
        state = capture_rng_state()
        states: List[Dict] = (
            all_gather_object(state) if is_distributed() else [state])
        self._snapshot = dict(epoch=runner.epoch + 1, states=states)

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        if self._snapshot is not None:
            checkpoint[CHECKPOINT_KEY] = self._snapshot

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        self._loaded = checkpoint.get(CHECKPOINT_KEY)

    def before_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            return
        # A snapshot applies only where training continues from the point
        # it was taken: not after load_from, not to a later epoch.
        candidates = [
            saved for saved in (self._loaded, self._snapshot)
            if saved is not None and saved['epoch'] == runner.epoch
        ]
        self._loaded = None
        if not candidates:
            return
        states = candidates[0]['states']
        rank, world_size = get_dist_info()
        if len(states) != world_size:
            runner.logger.warning(
                f'RNGStateHook: the checkpoint holds the random states of '
                f'{len(states)} processes and this run has {world_size}, so '
                'they are not restored (the run continues with freshly '
                'seeded generators).')
            return
        restore_rng_state(states[rank])
