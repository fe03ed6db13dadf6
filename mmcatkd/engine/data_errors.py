"""What to do about upstream assertions on the user's data.

MMCV's ``LoadImageFromFile`` asserts that an image decoded (``failed to load
image: PATH``): a statement about the file, not a bug, but an
``AssertionError`` all the same. The tools turn those into one sentence with
what to do; other assertions keep their traceback.
"""
from typing import Optional

# message start -> what to do
DATA_ASSERTIONS = {
    'failed to load image':
    'the file is not an image or is corrupt: replace or remove it (a '
    'training run then continues with --resume)',
}


def explain_data_assertion(err: BaseException) -> Optional[str]:
    """``'<assertion>: <what to do>.'`` for an assertion about the data,
    else None. Also found inside the text of an error that a dataloader
    worker re-raised (``Caught AssertionError in DataLoader worker ...``)."""
    for line in str(err).splitlines():
        line = line.strip()
        if line.startswith('AssertionError: '):
            line = line[len('AssertionError: '):]
        for start, hint in DATA_ASSERTIONS.items():
            if line.startswith(start):
                return f'{line}: {hint}.'
    return None
