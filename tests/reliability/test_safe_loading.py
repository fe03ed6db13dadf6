"""Safe loading: every path that loads a
checkpoint (teacher_ckpt, --resume, tools/test.py,
tools/export_student.py, tools/convert_teacher.py) refuses a pickle that
would run code (in a zip checkpoint or a plain pickle file), names a
truncated, empty, text or random file for what it is (never with PyTorch's
advice to turn the safe loader off); the command-line tools say so in one
sentence, no traceback."""
import os.path as osp

import numpy as np
import pytest

from mmcatkd.cli import convert_teacher as convert_teacher_tool
from mmcatkd.cli import export_student as export_student_tool
from mmcatkd.cli import test as cli_test
from mmcatkd.utils.checkpoint import (CorruptCheckpointError,
                                      UnsafeCheckpointError)
from tests.conftest import image_folder  # noqa: F401
from tests.conftest import data_root_options
from tests.reliability.helpers import (CATKD, STUDENT, train_in_process,
                                       unique_experiment,
                                       write_malicious_checkpoint,
                                       write_malicious_pickle,
                                       write_truncated_copy)

EXPECTED = {
    'malicious': (UnsafeCheckpointError, 'is not a safe checkpoint'),
    'malicious_plain_pickle':
    (UnsafeCheckpointError, 'is not a safe checkpoint'),
    'truncated': (CorruptCheckpointError, 'is corrupt or truncated'),
    'empty': (CorruptCheckpointError, 'is empty (0 bytes)'),
    'text': (CorruptCheckpointError, 'is not a PyTorch checkpoint (neither'),
    'random': (CorruptCheckpointError,
               'is corrupt or not a PyTorch checkpoint (the weights_only '
               'loader read: Unsupported operand'),
}
# Parts of PyTorch's advice to turn the safe loader off, which must never
# reach a user of mmcatkd.
UNSAFE_ADVICE = ('Re-running', '=False', 'set to `False`')


@pytest.fixture(params=sorted(EXPECTED))
def bad_checkpoint(request, trained_catkd, tmp_path):
    """(kind, path, marker): a bad checkpoint of each kind; the malicious
    ones would create ``marker`` if their pickle ran."""
    marker = str(tmp_path / 'code_ran')
    path = str(tmp_path / f'{request.param}.pth')
    if request.param == 'malicious':
        write_malicious_checkpoint(path, marker)
    elif request.param == 'malicious_plain_pickle':
        write_malicious_pickle(path, marker)
    elif request.param == 'truncated':
        write_truncated_copy(osp.join(trained_catkd, 'epoch_1.pth'), path)
    else:
        content = {
            'empty':
            b'',
            'text':
            b'hello, not a checkpoint\n',
            'random':
            bytes(
                np.random.default_rng(1).integers(
                    0, 256, 4096, dtype=np.uint8))
        }[request.param]
        with open(path, 'wb') as f:
            f.write(content)
    yield request.param, path, marker
    assert not osp.exists(marker), 'the checkpoint ran code'


def _assert_one_sentence(stderr: str, tool: str, kind: str, path: str):
    error, message = EXPECTED[kind]
    assert 'Traceback' not in stderr
    first_line = stderr.strip().splitlines()[-2]
    assert first_line.startswith(f'{tool}: error:')
    assert path in first_line and message in first_line
    assert error.__name__ in stderr
    assert not any(text in first_line for text in UNSAFE_ADVICE)


def test_resume(bad_checkpoint, image_folder, tmp_path, capsys):  # noqa
    kind, path, _ = bad_checkpoint
    with pytest.raises(SystemExit):
        train_in_process(
            CATKD, str(tmp_path / 'work'), image_folder, resume=path)
    _assert_one_sentence(capsys.readouterr().err, 'train.py', kind, path)


def test_test_tool(bad_checkpoint, image_folder, tmp_path, capsys):  # noqa
    kind, path, _ = bad_checkpoint
    with pytest.raises(SystemExit):
        cli_test.main([
            STUDENT, path, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            *data_root_options(image_folder),
            unique_experiment()
        ])
    _assert_one_sentence(capsys.readouterr().err, 'test.py', kind, path)


def test_export_student(bad_checkpoint, tmp_path, capsys):
    kind, path, _ = bad_checkpoint
    out = str(tmp_path / 'student.pth')
    with pytest.raises(SystemExit):
        export_student_tool.main([path, out])
    _assert_one_sentence(capsys.readouterr().err, 'export_student.py', kind,
                         path)
    assert not osp.exists(out)


def test_convert_teacher(bad_checkpoint, tmp_path, capsys):
    kind, path, _ = bad_checkpoint
    out = str(tmp_path / 'teacher.pth')
    with pytest.raises(SystemExit):
        convert_teacher_tool.main(
            ['mdistiller', path, out, '--model', STUDENT])
    _assert_one_sentence(capsys.readouterr().err, 'convert_teacher.py', kind,
                         path)
    assert not osp.exists(out)
