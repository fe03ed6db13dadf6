"""Issue #7, item 3: every path that loads a checkpoint (teacher_ckpt,
--resume, tools/test.py, tools/export_student.py, tools/convert_teacher.py)
refuses a pickle that would run code and names a truncated file as
corrupt; the command-line tools say so in one sentence, no traceback."""
import os.path as osp

import pytest

from mmcatkd.compat import CorruptCheckpointError, UnsafeCheckpointError
from tests.conftest import data_root_options
from tests.conftest import image_folder  # noqa: F401
from tests.reliability.helpers import (CATKD, STUDENT, load_tool,
                                       train_in_process, unique_experiment,
                                       write_malicious_checkpoint,
                                       write_truncated_copy)

EXPECTED = {
    'malicious': (UnsafeCheckpointError, 'is not a safe checkpoint'),
    'truncated': (CorruptCheckpointError, 'is corrupt or truncated'),
}


@pytest.fixture(params=sorted(EXPECTED))
def bad_checkpoint(request, trained_catkd, tmp_path):
    """(kind, path, marker): a malicious or a truncated checkpoint; the
    malicious one would create ``marker`` if its pickle ran."""
    marker = str(tmp_path / 'code_ran')
    path = str(tmp_path / f'{request.param}.pth')
    if request.param == 'malicious':
        write_malicious_checkpoint(path, marker)
    else:
        write_truncated_copy(osp.join(trained_catkd, 'epoch_1.pth'), path)
    yield request.param, path, marker
    assert not osp.exists(marker), 'the checkpoint ran code'


def _assert_one_sentence(stderr: str, tool: str, kind: str, path: str):
    error, message = EXPECTED[kind]
    assert 'Traceback' not in stderr
    first_line = stderr.strip().splitlines()[-2]
    assert first_line.startswith(f'{tool}: error:')
    assert path in first_line and message in first_line
    assert error.__name__ in stderr


def test_resume(bad_checkpoint, image_folder, tmp_path, capsys):  # noqa
    kind, path, _ = bad_checkpoint
    with pytest.raises(SystemExit):
        train_in_process(CATKD, str(tmp_path / 'work'), image_folder,
                         resume=path)
    _assert_one_sentence(capsys.readouterr().err, 'train.py', kind, path)


def test_test_tool(bad_checkpoint, image_folder, tmp_path, capsys):  # noqa
    kind, path, _ = bad_checkpoint
    with pytest.raises(SystemExit):
        load_tool('test').main([
            STUDENT, path, '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', *data_root_options(image_folder),
            unique_experiment()
        ])
    _assert_one_sentence(capsys.readouterr().err, 'test.py', kind, path)


def test_export_student(bad_checkpoint, tmp_path, capsys):
    kind, path, _ = bad_checkpoint
    out = str(tmp_path / 'student.pth')
    with pytest.raises(SystemExit):
        load_tool('export_student').main([path, out])
    _assert_one_sentence(capsys.readouterr().err, 'export_student.py', kind,
                         path)
    assert not osp.exists(out)


def test_convert_teacher(bad_checkpoint, tmp_path):
    kind, path, _ = bad_checkpoint
    out = str(tmp_path / 'teacher.pth')
    with pytest.raises(SystemExit) as info:
        load_tool('convert_teacher').main(
            ['mdistiller', path, out, '--model', STUDENT])
    message = str(info.value)
    assert message.startswith('convert_teacher:')
    assert path in message and EXPECTED[kind][1] in message
    assert not osp.exists(out)
