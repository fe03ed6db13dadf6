"""The parts of exact resume, one at a time: generator states round-trip,
also through the weights_only loader, and a preserved block changes nothing
after it."""
import random

import numpy as np
import torch

from mmcatkd.engine import (capture_rng_state, preserved_rng_state,
                            restore_rng_state)


def _draw():
    return (random.random(), np.random.rand(), torch.rand(1).item())


def test_restored_state_repeats_every_generator(tmp_path):
    """python random, numpy and torch draw the same numbers after a restore
    from a checkpoint that torch's weights_only loader reads with no extra
    allowed globals."""
    path = str(tmp_path / 'rng.pth')
    torch.save(dict(rng_states=capture_rng_state()), path)
    expected = _draw()
    _draw()
    restore_rng_state(torch.load(path, weights_only=True)['rng_states'])
    assert _draw() == expected


def test_preserved_block_does_not_shift_the_generators():
    """What a preserved block draws does not change what is drawn after it
    (the preflight check relies on this)."""
    state = capture_rng_state()
    expected = _draw()
    restore_rng_state(state)
    with preserved_rng_state():
        _draw()
    assert _draw() == expected
