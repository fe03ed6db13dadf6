"""No tool writes over one of its inputs, into a directory, or over a file
it did not write, unless asked (mmcatkd.utils.output_paths).

One table names, for every file in tools/, how it writes: each tool that
writes a file or a folder is run (in this process, so it is refused in
milliseconds, before any work) with its output equal to one of its inputs,
also through ``..``, a symbolic link and ``--force``; the input keeps its
bytes. A new tool without an entry in the table fails
:func:`test_every_tool_has_an_entry`.
"""
import glob
import hashlib
import os
import os.path as osp
import re
from importlib import import_module

import pytest

from mmcatkd.cli import export_student as export_student_tool
from mmcatkd.utils.atomic_file import atomic_write, leftover_temporaries
from tests.conftest import PROJECT_ROOT
from tests.reliability.helpers import CATKD, STUDENT

TOOLS_DIR = osp.join(PROJECT_ROOT, 'tools')


def _argv(tool: str, files: dict, out: str) -> list:
    """The arguments of ``tool`` with ``out`` as its output; ``files`` are
    its inputs (``config``, ``checkpoint``, ``image``)."""
    config, ckpt, image = files['config'], files['checkpoint'], files['image']
    return {
        'analyze_attention.py': [
            config, '--model', 'a', config, ckpt, '--model', 'b', config, ckpt,
            '--out', out, '--force'
        ],
        'benchmark.py': [
            '--config', config, '--student-config', config, '--input-size',
            '32', '--out', out, '--force'
        ],
        'beta_study.py': ['--teacher-config', config, '--work-dir', out],
        'cache_teacher_cams.py': [config, '--out', out],
        'convert_teacher.py':
        ['mdistiller', ckpt, out, '--model', config, '--force'],
        'demo.py': ['--quick', '--teacher-config', config, '--work-dir', out],
        'export_student.py': [ckpt, out, '--force'],
        'linear_probe.py':
        [config, ckpt, '--probe-config', config, '--out', out, '--force'],
        'test.py': [config, ckpt, '--out', out, '--force'],
        'train.py': [config, '--work-dir', out, '--force'],
        'visualize_cam.py': [config, ckpt, image, '--out', out, '--force'],
    }[tool]


#: tool -> (the input its output is set to, a key of _argv's ``files``;
#: how the tool's sentence names it)
WRITES_OVER_INPUT = {
    'analyze_attention.py': ('checkpoint', 'checkpoint'),
    'benchmark.py': ('config', 'config'),
    'beta_study.py': ('config', 'teacher config'),
    'cache_teacher_cams.py': ('config', 'config'),
    'convert_teacher.py': ('checkpoint', 'checkpoint'),
    'demo.py': ('config', 'teacher config'),
    'export_student.py': ('checkpoint', 'checkpoint'),
    'linear_probe.py': ('checkpoint', 'checkpoint'),
    'test.py': ('checkpoint', 'checkpoint'),
    'train.py': ('config', 'config'),
    'visualize_cam.py': ('image', 'image'),
}
#: tools that write a file but read none: refused over an existing file
WRITES_WITHOUT_INPUT = {
    'cuda_check.py': ['--device', 'cpu', '--out'],
}
#: tools that write no path the user chooses, and why
NO_CHOSEN_OUTPUT = {
    'average_best.py': 'prints the mean of the best top-1 of work dirs',
    'check_pair.py': 'prints its checks; trains nothing it saves',
    'recipes.py': 'render regenerates docs/recipes.md from '
    'configs/recipes.yml (its own generated file)',
    'cam_compat_table.py': 'regenerates docs/cam_compatibility.md (its own '
    'generated file); --print / --only print',
    '_python.sh': 'finds the interpreter for the other scripts',
    'dist_train.sh': 'starts train.py (covered) under torchrun',
    'dist_test.sh': 'starts test.py (covered) under torchrun',
    'slurm_train.sh': 'starts train.py (covered) under srun',
}


def test_every_tool_has_an_entry():
    """The table covers every file in tools/, and nothing else: a new tool
    must say how it writes."""
    tools = {
        osp.basename(path)
        for path in glob.glob(osp.join(TOOLS_DIR, '*')) if osp.isfile(path)
    }
    covered = [*WRITES_OVER_INPUT, *WRITES_WITHOUT_INPUT, *NO_CHOSEN_OUTPUT]
    assert len(covered) == len(set(covered))
    assert set(covered) == tools
    assert {'train.py', 'export_student.py', 'demo.py'} <= tools


@pytest.mark.parametrize('tool', sorted(NO_CHOSEN_OUTPUT))
def test_tools_without_a_chosen_output_write_nothing_else(tool):
    """A tool said to write nothing imports no writer (and
    test_entry_points forbids other writes in tools/ and mmcatkd/cli/); one
    that regenerates a doc writes only its constant DOC path. A Python
    tool's code is its command line in mmcatkd/cli/."""
    with open(osp.join(TOOLS_DIR, tool)) as f:
        source = f.read()
    if tool.endswith('.py'):
        assert 'atomic_file' not in source
        with open(osp.join(PROJECT_ROOT, 'mmcatkd', 'cli', tool)) as f:
            source = f.read()
    if tool in ('recipes.py', 'cam_compat_table.py'):
        assert source.count('atomic_write(') == 1
        assert re.search(r'atomic_write\([^,]+, DOC\)', source)
    else:
        assert 'atomic_file' not in source


def _digest(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _refused(tool: str, argv: list, capsys) -> str:
    """The one sentence ``tool`` refused ``argv`` with."""
    with pytest.raises(SystemExit) as info:
        import_module('mmcatkd.cli.' + tool[:-3]).main(argv)
    assert info.value.code == 1
    stderr = capsys.readouterr().err
    assert 'Traceback' not in stderr
    (line, ) = [
        line for line in stderr.splitlines()
        if line.startswith(f'{tool}: error: ')
    ]
    return line


@pytest.fixture
def inputs(tmp_path):
    """A config (inheriting the tiny CAT-KD config by its absolute path), a
    checkpoint and an image, in a folder of their own."""
    folder = tmp_path / 'inputs'
    folder.mkdir()
    config = folder / 'config.py'
    config.write_text(f'_base_ = [{CATKD!r}]\n')
    checkpoint = folder / 'model.pkl'
    checkpoint.write_bytes(b'weights that must survive')
    image = folder / 'image.png'
    image.write_bytes(b'an image that must survive')
    return dict(
        config=str(config), checkpoint=str(checkpoint), image=str(image))


@pytest.mark.parametrize('spelling', ['same', 'dotdot', 'symlink'])
@pytest.mark.parametrize('tool', sorted(WRITES_OVER_INPUT))
def test_output_equal_to_an_input_is_refused(tool, spelling, inputs, tmp_path,
                                             capsys):
    """Output = input (the path itself, through ``..`` or a symbolic link;
    with --force where the tool has it): one sentence naming the input, its
    bytes unchanged, nothing else written next to it."""
    kind, label = WRITES_OVER_INPUT[tool]
    target = inputs[kind]
    out = {
        'same':
        target,
        'dotdot':
        osp.join(osp.dirname(target), '..', 'inputs', osp.basename(target)),
        'symlink':
        str(tmp_path / 'link'),
    }[spelling]
    if spelling == 'symlink':
        os.symlink(target, out)
    before = {name: _digest(path) for name, path in inputs.items()}
    line = _refused(tool, _argv(tool, inputs, out), capsys)
    assert f'{out} is the input {label}' in line and 'give another' in line
    assert {name: _digest(path) for name, path in inputs.items()} == before
    assert sorted(os.listdir(
        osp.dirname(target))) == ['config.py', 'image.png', 'model.pkl']


@pytest.mark.parametrize('tool', sorted(WRITES_WITHOUT_INPUT))
def test_output_over_an_existing_file_needs_force(tool, tmp_path, capsys):
    out = tmp_path / 'results.json'
    out.write_text('someone else\'s results')
    line = _refused(tool, WRITES_WITHOUT_INPUT[tool] + [str(out)], capsys)
    assert f'--out {out} already exists: pass --force to replace it' in line
    assert out.read_text() == 'someone else\'s results'


def test_export_student_over_an_existing_file_needs_force(
        inputs, tmp_path, capsys):
    """Without --force, an existing output is not replaced (the tool cannot
    tell its own earlier output from someone else's file)."""
    out = tmp_path / 'student.pth'
    out.write_bytes(b'an earlier student')
    line = _refused('export_student.py',
                    [inputs['checkpoint'], str(out)], capsys)
    assert (f'the output {out} already exists: pass --force to replace it'
            in line)
    assert out.read_bytes() == b'an earlier student'


# -- the atomic writer's temporary file -------------------------------------


def test_atomic_write_leaves_a_file_named_like_its_temporary(tmp_path):
    """A file called TARGET.tmp (a user's, or another writer's temporary)
    is neither truncated nor renamed by a write of TARGET."""
    target = str(tmp_path / 'out.pth')
    with open(target + '.tmp', 'wb') as f:
        f.write(b'not the write\'s')
    atomic_write(b'new', target)
    assert open(target, 'rb').read() == b'new'
    assert open(target + '.tmp', 'rb').read() == b'not the write\'s'
    assert leftover_temporaries(str(tmp_path)) == []


def test_export_student_keeps_an_input_named_like_the_temporary(
        catkd_run, tmp_path, capsys):
    """``export_student.py out.pth.tmp out.pth`` (rc 0) consumed its own
    input: the fixed temporary name was the input's."""
    source = str(tmp_path / 'out.pth.tmp')
    with open(osp.join(catkd_run, 'epoch_1.pth'), 'rb') as f:
        data = f.read()
    with open(source, 'wb') as f:
        f.write(data)
    out = str(tmp_path / 'out.pth')
    export_student_tool.main([source, out])
    assert open(source, 'rb').read() == data
    assert osp.isfile(out)
    assert leftover_temporaries(str(tmp_path)) == []


# -- the reproductions of the tools' data loss, one by one -------------------


def test_convert_teacher_refuses_its_source(inputs, capsys):
    """``convert_teacher.py mdistiller X X --model M`` overwrote X."""
    source = inputs['checkpoint']
    line = _refused('convert_teacher.py',
                    ['mdistiller', source, source, '--model', STUDENT], capsys)
    assert f'the output {source} is the input checkpoint' in line
    assert open(source, 'rb').read() == b'weights that must survive'


def test_visualize_cam_refuses_to_draw_over_its_image(inputs, capsys):
    """``visualize_cam.py CFG CKPT img.png --out img.png`` overwrote the
    image."""
    image = inputs['image']
    line = _refused('visualize_cam.py',
                    [STUDENT, inputs['checkpoint'], image, '--out', image],
                    capsys)
    assert f'--out {image} is the input image' in line
    assert open(image, 'rb').read() == b'an image that must survive'


def test_test_py_refuses_to_dump_over_its_checkpoint(inputs, capsys):
    """``test.py CFG ck.pkl --out ck.pkl`` replaced the checkpoint with
    predictions."""
    checkpoint = inputs['checkpoint']
    line = _refused('test.py', [STUDENT, checkpoint, '--out', checkpoint],
                    capsys)
    assert f'--out {checkpoint} is the input checkpoint' in line
    assert open(checkpoint, 'rb').read() == b'weights that must survive'


def test_linear_probe_refuses_to_save_over_its_checkpoint(inputs, capsys):
    """``linear_probe.py CFG ck.pth ... --out ck.pth`` overwrote it."""
    checkpoint = inputs['checkpoint']
    line = _refused(
        'linear_probe.py',
        [STUDENT, checkpoint, '--probe-config', STUDENT, '--out', checkpoint],
        capsys)
    assert f'--out {checkpoint} is the input checkpoint' in line
    assert open(checkpoint, 'rb').read() == b'weights that must survive'


def test_cache_tool_keeps_a_folder_that_is_not_a_cache(tmp_path, capsys):
    """``cache_teacher_cams.py CFG --out D``, D holding a user's own
    cams.npy and no manifest, overwrote it."""
    folder = tmp_path / 'mine'
    folder.mkdir()
    (folder / 'cams.npy').write_bytes(b'my own array')
    line = _refused('cache_teacher_cams.py',
                    [CATKD, '--out', str(folder)], capsys)
    assert (f'--out {folder} holds files but no manifest.json, so it is not '
            'a teacher-CAM cache' in line)
    assert sorted(os.listdir(folder)) == ['cams.npy']
    assert (folder / 'cams.npy').read_bytes() == b'my own array'
