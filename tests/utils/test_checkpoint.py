"""safe_torch_load on plain pickle files (no torch.save zip around them):
one that would import code is refused as not a safe checkpoint, naming
what it would import, and runs nothing; one that names only what the safe
loader allows is not called unsafe."""
import os
import pickle

import pytest
import torch

from mmcatkd.utils.checkpoint import (CorruptCheckpointError,
                                      UnsafeCheckpointError, safe_torch_load)
from tests.reliability.helpers import RunsCode


# 0: text opcodes and 4, 5: frames, which the weights_only loader stops at
# before it reaches a global; 2: the protocol it reads.
@pytest.mark.parametrize('protocol', [0, 2, 4, 5])
def test_malicious_plain_pickle_is_refused_as_unsafe(tmp_path, protocol):
    marker = tmp_path / 'code_ran'
    path = str(tmp_path / 'evil.pth')
    with open(path, 'wb') as f:
        pickle.dump(
            dict(state_dict={}, payload=RunsCode(marker)),
            f,
            protocol=protocol)
    with pytest.raises(UnsafeCheckpointError) as refused:
        safe_torch_load(path)
    message = str(refused.value)
    assert message.startswith(f'{path} is not a safe checkpoint')
    assert f'{os.system.__module__}.system' in message  # posix.system
    assert 'corrupt' not in message
    assert not marker.exists()


def test_code_after_allowed_globals_is_found(tmp_path):
    """A legacy (non-zip) torch.save file whose tensors come first and a
    call of os.system after them is refused as unsafe, naming only the
    global the safe loader refuses."""
    marker = tmp_path / 'code_ran'
    path = str(tmp_path / 'legacy_evil.pth')
    torch.save(
        dict(weight=torch.ones(2), payload=RunsCode(marker)),
        path,
        _use_new_zipfile_serialization=False,
        pickle_protocol=4)
    with pytest.raises(UnsafeCheckpointError) as refused:
        safe_torch_load(path)
    imports = str(refused.value).split('would import ')[1].split(')')[0]
    assert imports == f'{os.system.__module__}.system'
    assert not marker.exists()


def test_plain_pickle_of_allowed_globals_is_not_called_unsafe(tmp_path):
    """A legacy torch.save file of tensors in pickle protocol 4, which the
    weights_only loader cannot read, names only globals it allows
    (OrderedDict, torch's tensor rebuilders): unreadable, not unsafe."""
    path = str(tmp_path / 'legacy.pth')
    torch.save(
        dict(weight=torch.ones(2)),
        path,
        _use_new_zipfile_serialization=False,
        pickle_protocol=4)
    with pytest.raises(
            CorruptCheckpointError,
            match='is corrupt or not a PyTorch checkpoint'):
        safe_torch_load(path)
