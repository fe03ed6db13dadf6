"""A user's mistake ends in one sentence, a bug keeps its traceback
(mmcatkd.engine.user_errors, mmcatkd.engine.cli).

The sentence is only for mmcatkd's own ``UserError`` types and the upstream
errors recognised as the user's (files, registry names, options a class
does not take, config syntax, image assertions); a ``TypeError``,
``KeyError``, ``ValueError`` or ``RuntimeError`` from anywhere else is a
bug. A static scan holds mmcatkd and the tools to raising the user-error
types for their checks.
"""
import ast
import errno
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import Registry

from mmcatkd.engine.cli import user_errors_as_messages
from mmcatkd.engine.user_errors import user_error_message
from mmcatkd.utils.errors import (ConfigError, ConfigIndexError,
                                  ConfigKeyError, ConfigTypeError,
                                  MissingHookError, NoSpaceError, UserError)
from tests.conftest import PROJECT_ROOT


def _raised(fn):
    try:
        fn()
    except Exception as err:  # noqa: B902  (the error under test)
        return err
    raise AssertionError('nothing was raised')


@pytest.mark.parametrize('error_type', [
    ConfigError, ConfigTypeError, ConfigKeyError, ConfigIndexError,
    MissingHookError, NoSpaceError
])
def test_user_errors_are_their_sentence(error_type):
    """Each type is also the built-in it replaces (so ``except ValueError``
    in callers keeps working), and its sentence is the message as written
    (KeyError's quotes left out)."""
    err = error_type('resolution 8 is larger than the 4x4 CAMs: choose 4.')
    assert isinstance(err, UserError)
    assert user_error_message(err) == (
        'resolution 8 is larger than the 4x4 CAMs: choose 4.')


@pytest.mark.parametrize('bug', [
    TypeError("unsupported operand type(s) for +: 'dict' and 'int'"),
    KeyError(4),
    ValueError('too many values to unpack'),
    IndexError('list index out of range'),
    RuntimeError('mat1 and mat2 shapes cannot be multiplied (4x8 and 16x4)'),
    AttributeError("'NoneType' object has no attribute 'shape'"),
    AssertionError('an assertion of code'),
    OSError(errno.EIO, 'Input/output error'),
])
def test_other_exceptions_are_bugs(bug):
    """What a custom loss or backbone raises by mistake gets no sentence:
    the tool lets it through with its traceback."""
    assert user_error_message(bug) is None


def test_upstream_file_and_disk_errors_are_sentences(tmp_path):
    missing = _raised(lambda: open(tmp_path / 'no.pth', 'rb'))
    assert str(tmp_path / 'no.pth') in user_error_message(missing)
    directory = _raised(lambda: open(tmp_path, 'rb'))
    assert user_error_message(directory) is not None
    full = OSError(errno.ENOSPC, 'No space left on device')
    assert 'No space left on device' in user_error_message(full)


def test_image_assertion_is_a_sentence_with_what_to_do():
    err = AssertionError('failed to load image: data/cat.png')
    assert user_error_message(err) == (
        'failed to load image: data/cat.png: the file is not an image or is '
        'corrupt: replace or remove it (a training run then continues with '
        '--resume).')


def test_error_from_a_dataloader_worker_keeps_its_own_message():
    """A worker re-raises with the traceback as text: the sentence is the
    original message; a bug re-raised by a worker stays a bug."""
    text = ('Caught FileNotFoundError in DataLoader worker process 0.\n'
            'Original Traceback (most recent call last):\n'
            '  File "x.py", line 1, in f\n'
            "FileNotFoundError: image data/cat.png does not exist.\n")
    assert user_error_message(
        FileNotFoundError(text)) == ('image data/cat.png does not exist.')
    assert user_error_message(
        TypeError(text.replace('FileNotFoundError', 'TypeError'))) is None


# -- names and options in the config -------------------------------------

REGISTRY = Registry('test parts')


@REGISTRY.register_module()
class Part:

    def __init__(self, size: int = 1):
        self.size = size


@REGISTRY.register_module()
class PassesOptionsOn(Part):
    """Forwards every option it does not know to its base class."""

    def __init__(self, depth: int = 2, **kwargs):
        super().__init__(**kwargs)


@REGISTRY.register_module()
class BuildsWrongly(Part):
    """A bug in a custom module: its own code calls a class wrongly."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Part(sise=3)


def test_unknown_registry_name_is_a_sentence():
    err = _raised(lambda: REGISTRY.build(dict(type='Prat')))
    assert user_error_message(err).startswith(
        'Prat is not in the tests::test parts registry')
    no_type = _raised(lambda: REGISTRY.build(dict(size=3)))
    assert 'must contain the key "type"' in user_error_message(no_type)


def test_option_the_built_class_does_not_take_is_a_sentence():
    """A misspelt or missing option of the class the config builds, also
    when its ``__init__`` passes ``**kwargs`` on to a base class."""
    err = _raised(lambda: REGISTRY.build(dict(type='Part', sise=3)))
    assert user_error_message(err) == (
        "Part.__init__() got an unexpected keyword argument 'sise': check "
        'the options given to Part in the config.')
    forwarded = _raised(
        lambda: REGISTRY.build(dict(type='PassesOptionsOn', sise=3)))
    assert user_error_message(forwarded) == (
        "Part.__init__() got an unexpected keyword argument 'sise': check "
        'the options given to PassesOptionsOn in the config.')


def test_wrong_call_inside_a_module_is_a_bug():
    """The same TypeError text raised by a module's own code (the keyword
    is not one the config gave) keeps its traceback."""
    err = _raised(lambda: REGISTRY.build(dict(type='BuildsWrongly')))
    assert "unexpected keyword argument 'sise'" in str(err)
    assert user_error_message(err) is None
    direct = _raised(lambda: Part(sise=3))
    assert user_error_message(direct) is None


def test_config_syntax_error_names_the_file_and_line(tmp_path):
    """MMEngine reports ``File "<unknown>", line 3``; the sentence names
    the config (or the _base_ file holding the error) and the line."""
    config = tmp_path / 'broken.py'
    config.write_text("model = dict(type='ImageClassifier')\n"
                      'optim_wrapper = dict(\n'
                      '    optimizer=dict(lr=0.1)\n')
    err = _raised(lambda: Config.fromfile(str(config)))
    assert isinstance(err, SyntaxError)
    assert user_error_message(err) == (
        f"the config {config} has a syntax error at line 2: '(' was never "
        'closed: fix the config file.')

    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{config.name}']\nmodel = dict()\n")
    err = _raised(lambda: Config.fromfile(str(child)))
    assert user_error_message(err) == (
        f"the config {config} has a syntax error at line 2: '(' was never "
        'closed: fix the config file.')


def test_syntax_error_outside_a_config_is_a_bug():
    err = _raised(lambda: compile('x = (', 'custom_loss.py', 'exec'))
    assert user_error_message(err) is None


# -- the handler of the tools ------------------------------------------------


def test_handler_prints_the_sentence_of_a_user_error(capsys):
    with pytest.raises(SystemExit) as info:
        with user_errors_as_messages('train.py'):
            raise ConfigKeyError('the distiller has no loss loss_kd.')
    assert info.value.code == 1
    assert capsys.readouterr().err == (
        'train.py: error: the distiller has no loss loss_kd.\n'
        '(ConfigKeyError; set MMCATKD_TRACEBACK=1 for the traceback)\n')


@pytest.mark.parametrize(
    'bug',
    [TypeError('bug'),
     KeyError(4),
     ValueError('bug'),
     RuntimeError('bug')])
def test_handler_lets_a_bug_through(bug, capsys):
    """``train.py: error: 4`` was what a KeyError(4) in a custom loss
    printed; now the exception itself leaves the tool."""
    with pytest.raises(type(bug)) as info:
        with user_errors_as_messages('train.py'):
            raise bug
    assert info.value is bug
    assert 'error:' not in capsys.readouterr().err


def test_traceback_variable_shows_user_errors_too(monkeypatch):
    monkeypatch.setenv('MMCATKD_TRACEBACK', '1')
    with pytest.raises(ConfigError):
        with user_errors_as_messages('train.py'):
            raise ConfigError('bad value.')


# -- the rule in the code ----------------------------------------------------

BUILTINS = {'ValueError', 'TypeError', 'KeyError', 'IndexError'}


def _sources():
    paths = glob.glob(
        osp.join(PROJECT_ROOT, 'mmcatkd', '**', '*.py'), recursive=True)
    paths += glob.glob(osp.join(PROJECT_ROOT, 'tools', '*.py'))
    # compat mirrors upstream code (mmengine's package lookups) as it is
    return [
        path for path in sorted(paths)
        if osp.join('mmcatkd', 'compat') not in path
    ]


def test_the_scan_sees_the_sources():
    names = {osp.relpath(path, PROJECT_ROOT) for path in _sources()}
    assert {'mmcatkd/models/losses/cat_loss.py', 'tools/train.py'} <= names


def test_checks_raise_user_error_types():
    """A check that tells the user what to do raises a ``UserError`` type
    (``mmcatkd.utils.errors``): a bare ``ValueError`` would reach the user
    as a traceback. The rare raise of a built-in that means a bug says so
    in a comment on the line above (``a bug, not bad input``)."""
    problems = []
    for path in _sources():
        with open(path) as f:
            text = f.read()
        lines = text.splitlines()
        problems += [
            f'{osp.relpath(path, PROJECT_ROOT)}:{node.lineno}: raise '
            f'{node.exc.func.id}' for node in ast.walk(ast.parse(text, path))
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            and getattr(node.exc.func, 'id', None) in BUILTINS
            and 'a bug, not bad input' not in lines[node.lineno - 2]
        ]
    assert not problems, (f'{problems}: raise a type of '
                          'mmcatkd.utils.errors')
