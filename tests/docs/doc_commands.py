"""Run every command of the README and docs/*.md as written, on stand-in data.

The harness behind ``tests/docs/test_doc_commands.py``:

1. :func:`code_blocks` takes the fenced and indented code blocks of each
   Markdown file; :data:`BLOCK_RULES` says which are shell, Python or text.
2. :func:`plan` splits shell blocks into commands (continuation lines
   joined, ``for ... done`` kept whole) and classifies each one by
   :data:`COMMAND_RULES`: a table of command patterns saying how the command
   is run. A command that matches no rule is an error naming it, so a new
   command in the docs needs a rule before the test passes.
3. :func:`run_plan` runs the commands in document order with ``bash`` in a
   fresh directory that looks like a clone of the repository with the stand-in
   data under ``data/`` (``standin_data.py``), with the project's
   environment entered (``source .venv/bin/activate``) and its ``python``
   replaced by ``shim.py``, which appends the shortening options of each tool
   (and hands a tool to ``tests/zygote.py``'s pre-imported interpreter to fork,
   which saves the 6 s of imports each command would spend).
   Python blocks are parsed and config fragments loaded through MMEngine.
"""
import ast
import contextlib
import os
import os.path as osp
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from tests.zygote import SOCKET_VARIABLE, Zygote

HERE = osp.dirname(osp.abspath(__file__))
PROJECT_ROOT = osp.dirname(osp.dirname(HERE))
SHIM = osp.join(HERE, 'shim.py')
STANDIN_SITE = osp.join(HERE, 'standin_site')
INSTALL_STAMP = '.venv/.mmcatkd-installed'
#: MMCATKD_DOCTEST_FORK=0 starts a fresh interpreter for every documented
#: python command instead of forking a pre-imported one (zygote.py)
FORK_VARIABLE = 'MMCATKD_DOCTEST_FORK'


def doc_files(root: str = PROJECT_ROOT) -> List[str]:
    """README.md and docs/*.md, relative to ``root``."""
    docs = sorted(
        osp.join('docs', name) for name in os.listdir(osp.join(root, 'docs'))
        if name.endswith('.md'))
    return ['README.md'] + docs


@dataclass
class Block:
    path: str  # Markdown file, relative to the repository
    line: int  # 1-based line of the block's first line of code
    info: str  # the fence's language ('' for none and indented blocks)
    text: str


def code_blocks(path: str, text: str) -> List[Block]:
    """Fenced and indented code blocks of a Markdown text, in order."""
    from markdown_it import MarkdownIt
    blocks = []
    for token in MarkdownIt().parse(text):
        if token.type in ('fence', 'code_block'):
            first = token.map[0] + (2 if token.type == 'fence' else 1)
            blocks.append(
                Block(path, first,
                      token.info.strip().split(' ')[0].lower(), token.content))
    return blocks


# ---------------------------------------------------------------- blocks
SHELL_INFOS = ('bash', 'shell', 'sh', 'console')
PYTHON_INFOS = ('python', 'py')
COMMAND_START = re.compile(
    r'^\s*(python3?|tools/|make|pip|bash|cp|source|[A-Z_]+=)\S*')


def _is_python_assignments(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    return bool(tree.body) and all(
        isinstance(node, ast.Assign) for node in tree.body)


# How a block is read: first rule that matches wins.
BLOCK_RULES = [
    ('fence labelled bash/shell/sh: shell commands',
     lambda b: b.info in SHELL_INFOS, 'shell'),
    ('fence labelled python: Python (a config fragment when it assigns)',
     lambda b: b.info in PYTHON_INFOS, 'python'),
    ('unlabelled block starting with a command: shell commands',
     lambda b: b.info == '' and bool(COMMAND_START.match(b.text)), 'shell'),
    ('unlabelled block of Python assignments: a config fragment',
     lambda b: b.info == '' and _is_python_assignments(b.text), 'python'),
    ('anything else (trees, formulas, logs, tables): text, not run',
     lambda b: True, 'text'),
]


def block_kind(block: Block) -> str:
    for _, matches, kind in BLOCK_RULES:
        if matches(block):
            return kind
    raise AssertionError('the last BLOCK_RULE matches everything')


# -------------------------------------------------------------- commands
def split_commands(text: str) -> List[str]:
    """Shell commands of a block: continuation lines joined, comments and
    blank lines dropped, a ``for``/``while``/``if`` compound kept whole."""
    commands, current, depth = [], [], 0
    lines = text.split('\n')
    index = 0
    while index < len(lines):
        line = lines[index]
        while line.rstrip().endswith('\\') and index + 1 < len(lines):
            index += 1
            line = line.rstrip()[:-1].rstrip() + ' ' + lines[index].strip()
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if depth == 0 and line[:1].isspace() and commands and not current:
            # an indented line continues a synopsis written without '\\'
            commands[-1] += ' ' + stripped
            continue
        words = stripped.split()
        if words[0] in ('for', 'while', 'until', 'if'):
            depth += 1
        if words[0] in ('done', 'fi') or stripped.startswith(('done;', 'fi;')):
            depth -= 1
        current.append(stripped)
        if depth == 0:
            commands.append('\n'.join(current))
            current = []
    if current:
        commands.append('\n'.join(current))
    return commands


def strip_comment(command: str) -> str:
    """The command without a trailing ``# comment`` (outside quotes)."""
    quote = ''
    for index, char in enumerate(command):
        if quote:
            quote = '' if char == quote else quote
        elif char in '\'"':
            quote = char
        elif char == '#' and (index == 0 or command[index - 1].isspace()):
            return command[:index].rstrip()
    return command


@dataclass
class CommandRule:
    name: str
    pattern: str  # regex, searched in the command as written
    how: str  # what the test does with it, for the listing
    # the command to run (None: covered by an earlier one, see `key`)
    rewrite: Callable[[str], str] = staticmethod(lambda command: command)
    # commands with the same key are the same shape: only the first runs
    key: Optional[Callable[[str], tuple]] = None
    # why the command cannot run here as written (None: it can)
    cannot_run: Optional[str] = None
    # runs after the other commands of its file (it uses what a later
    # command of the file makes)
    after_file: bool = False


def _gpus_to_processes(command: str, processes: int = 2) -> str:
    """``tools/dist_*.sh ... N`` with N > ``processes``: ``processes`` gloo
    processes."""
    words = shlex.split(command)
    index = 2 if 'dist_train' in words[0] else 3
    if len(words) > index and words[index].isdigit() and int(
            words[index]) > processes:
        words[index] = str(processes)
    return shlex.join(words)


def _config_of(command: str) -> str:
    words = shlex.split(command)
    for word in words[1:]:
        if word.endswith('.py') and word.startswith('configs/'):
            return word
    return ''


def _method(command: str) -> str:
    """The method of a config, its file name's first word (clskd_...)."""
    return osp.basename(_config_of(command)).split('_')[0]


def _benchmark_shape(command: str) -> tuple:
    """benchmark.py runs differing only in --out or --pair are one shape."""
    words = shlex.split(command)
    shape = []
    skip = False
    for word in words[2:]:
        if skip:
            skip = False
            continue
        if word in ('--out', '--pair'):
            skip = True
            continue
        shape.append(word)
    return ('benchmark', tuple(shape))


# synopsis placeholder -> a file of the commands run before it, by tool
PLACEHOLDERS = {
    'visualize_cam.py': {
        'CONFIG': 'configs/demo/catkd_resnet56_resnet20_1xb16_digits.py',
        'CKPT': 'work_dirs/demo/catkd/iter_300.pth',
        'T.py': 'configs/demo/resnet56_1xb32_digits.py',
        'T.pth': 'work_dirs/demo/teacher/teacher.pth',
        'a.png': 'test11_digit3.png',
        'b.png': 'test18_digit8.png',
        'cuda:0': 'cpu',
    },
    'linear_probe.py': {
        'CONFIG': 'configs/demo/catkd_resnet56_resnet20_1xb16_digits.py',
        'CKPT': 'work_dirs/demo/catkd/iter_300.pth',
        'DATA_CFG': 'configs/demo/_base_/probe_digits_5-9.py',
        'N': '2',
    },
    'benchmark.py': {
        'T.py': 'configs/_base_/models/cifar100/resnet32x4.py',
        'S.py': 'configs/_base_/models/cifar100/resnet8x4.py',
    },
    'check_pair.py': {
        'TEACHER_CONFIG': 'configs/_base_/models/cifar100/resnet32x4.py',
        'STUDENT_CONFIG': 'configs/_base_/models/cifar100/resnet8x4.py',
        'T.pth': 'work_dirs/teachers/resnet32x4.pth',
    },
    'cache_teacher_cams.py': {
        'CONFIG': 'configs/catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py',
        'DIR': 'work_dirs/cams/resnet32x4_r2_torchrun',
    },
}


def _fill_synopsis(command: str) -> str:
    """A synopsis with its placeholders filled and every [option] given."""
    command = command.replace('[', '').replace(']', '')
    words = shlex.split(command)
    tool = next((osp.basename(w) for w in words if w.endswith('.py')), '')
    values = PLACEHOLDERS.get(tool, {})
    return shlex.join(values.get(word, word) for word in words)


def _is_synopsis(command: str) -> bool:
    return bool(
        re.search(r'\b(CONFIG|CKPT|DATA_CFG|T\.py|S\.py)\b|\[--', command))


NOT_RUN_HERE = 'needs {}, which this machine has not'

# command pattern -> how the documentation test runs it; the first match wins
COMMAND_RULES = [
    CommandRule(
        'make demo',
        r'^make demo$',
        'make with the install step taken as done (the suite runs inside '
        'that environment); tools/demo.py gets --quick',
        rewrite=lambda c: c.replace('make',
                                    f'make -o {INSTALL_STAMP} PY=python', 1)),
    CommandRule(
        'make test with PYTEST_ARGS',
        r"^make test PYTEST_ARGS='[^']*'$",
        'the install step taken as done, --collect-only added to '
        'PYTEST_ARGS (in one process, TEST_WORKERS=0): the target runs '
        'pytest with the arguments, which must select at least one test '
        '(running them is the suite\'s job)',
        rewrite=lambda c: c.replace(
            'make', f'make -o {INSTALL_STAMP} TEST_WORKERS=0', 1)[:-1] +
        " --collect-only -q'"),
    CommandRule(
        'make test',
        r'^make test$',
        'not run: the whole suite is what runs this test; its target, '
        'install step and pytest call run in `make test PYTEST_ARGS=...`',
        rewrite=lambda c: None),
    CommandRule(
        'make test-fast',
        r'^make test-fast$',
        'the install step taken as done, PYTEST_ARGS=\'--collect-only -q\' '
        'in one process (TEST_WORKERS=0): the tier is selected and imports '
        '(running it is the suite\'s job)',
        rewrite=lambda c: f"make -o {INSTALL_STAMP} TEST_WORKERS=0 test-fast "
        "PYTEST_ARGS='--collect-only -q'"),
    CommandRule(
        'make test-cuda',
        r'^make test-cuda$',
        'as written, the install step taken as done: the CUDA tests are '
        'collected and skip',
        cannot_run=NOT_RUN_HERE.format('a GPU'),
        rewrite=lambda c: f'make -o {INSTALL_STAMP} test-cuda'),
    CommandRule(
        'make cuda-check',
        r'^make cuda-check$',
        'make -n: the target and its command are checked, not run',
        cannot_run=NOT_RUN_HERE.format('a GPU'),
        rewrite=lambda c: f'make -n -o {INSTALL_STAMP} cuda-check'),
    CommandRule('mmcatkd.run wrapper',
                r'^python -m mmcatkd\.run \S+::tools/\w+\.py',
                'as written; the shim shortens the wrapped tool like ours'),
    CommandRule(
        'torchrun',
        r'^torchrun ',
        'python -m torch.distributed.run (what torchrun is) with at most 2 '
        'processes (gloo); synopsis placeholders filled (PLACEHOLDERS)',
        cannot_run=NOT_RUN_HERE.format('GPUs'),
        rewrite=lambda c: _fill_synopsis(
            c.replace('torchrun', 'python -m torch.distributed.run', 1))),
    CommandRule(
        'pip install -e',
        r'^pip install -e ',
        'pip install --dry-run --no-index --no-build-isolation: resolves '
        'the extras and pins against the installed environment, installs '
        'nothing',
        cannot_run=NOT_RUN_HERE.format('a package index'),
        rewrite=lambda c: c.replace(
            'pip install', 'python -m pip install --dry-run --no-index '
            '--no-build-isolation --quiet', 1)),
    CommandRule(
        'pip wheel',
        r'^pip wheel ',
        'as written with --no-build-isolation (no package index here): the '
        'wheel is built into the fresh directory',
        rewrite=lambda c: c.replace(
            'pip wheel', 'python -m pip wheel --no-build-isolation --quiet', 1
        )),
    CommandRule(
        'pip install',
        r'^pip install ',
        'pip install --dry-run --no-index: the wheel or packages resolve '
        'against the environment `make install` made, nothing is installed',
        cannot_run=NOT_RUN_HERE.format('a package index'),
        rewrite=lambda c: c.replace(
            'pip install', 'python -m pip install --dry-run --no-index '
            '--quiet', 1)),
    CommandRule(
        'mim train',
        r'^mim train mmcatkd ',
        'not run: it trains in full (MIM starts the tool with its own '
        'interpreter, not the shortening shim); tests/test_wheel.py runs '
        '`mim train mmcatkd NAME` from the installed wheel for 2 iterations',
        rewrite=lambda c: None),
    CommandRule('source the environment', r'^source \.venv/bin/activate$',
                'as written (the fresh directory has .venv)'),
    CommandRule(
        'cp a checkpoint',
        r'^cp work_dirs/\S+\.pth \S+$',
        'as written; epoch_N.pth of a shortened run is its last '
        'checkpoint',
        rewrite=lambda c: 'cp "$(python --last-checkpoint {})" {}'.
        format(  # noqa: E501
            *map(shlex.quote,
                 shlex.split(c)[1:]))),
    CommandRule('shell variables', r'^([A-Z_]+=\S+ ?)+$', 'as written'),
    CommandRule(
        'a loop over a glob of configs',
        r'^for \w+ in configs/\S*\*\S*\.py; do',  # noqa: E501
        'the same command for every config: run for the first config of the '
        'glob only (every config is built and stepped by tests/configs)',
        rewrite=lambda c: re.sub(r'^for (\w+) in (\S+); do',
                                 r'for \1 in $(ls \2 | head -n 1); do', c)),
    CommandRule(
        'download',
        r'^(wget|curl) ',
        'not run: the archive it fetches is a stand-in made beforehand '
        '(PREREQUISITES)',
        cannot_run=NOT_RUN_HERE.format('a network'),
        rewrite=lambda c: None),
    CommandRule('extract an archive', r'^tar x\w* \S+ -C \S+$',
                'as written, on the stand-in archive'),
    CommandRule(
        'a loop over teachers',
        r'^for name in (\S+ )+\S+; do\n',
        'the same conversion for every teacher: the first one only (the '
        'stand-in archive holds it; tests/tools converts every architecture)',
        rewrite=lambda c: re.sub(r'^for name in (\S+)( \S+)*; do',
                                 r'for name in \1; do', c)),
    CommandRule(
        'a loop over seeds',
        r'^for seed in (\d+ )+\d+; do',
        'the same run for every seed: the first two seeds only',
        rewrite=lambda c: re.sub(r'^for seed in (\d+) (\d+)( \d+)*; do',
                                 r'for seed in \1 \2; do', c)),
    CommandRule(
        'average of seed runs',
        r'^python tools/average_best\.py .*\{\d+(,\d+)+\}',  # noqa: E501
        'over the runs of the two seeds the seed loop ran',
        rewrite=lambda c: re.sub(r'\{(\d+),(\d+)(,\d+)*\}', r'{\1,\2}', c)),
    CommandRule('a loop of tool runs', r'^for .*\n(.*\n)*\s*python tools/',
                'as written; each tool run inside is shortened by the shim'),
    CommandRule(
        'synopsis of a tool', r'^python tools/\w+\.py .*( [A-Z][A-Z_]{2,}'
        r'( |$)| [TS]\.(py|pth)\b|\[--)',
        'placeholders filled with files of the runs before it (see '
        'PLACEHOLDERS), every [option] given',
        rewrite=_fill_synopsis),
    CommandRule(
        'beta study',
        r'^python tools/beta_study\.py ',
        'with --summary-only: the tool starts and tabulates (no run is '
        'finished); the demo runs it would start run shortened as `make demo`',
        cannot_run='six full demo runs per seed, CPU-hours',
        rewrite=lambda c: c + ' --summary-only'),
    CommandRule(
        'benchmark',
        r'^python tools/benchmark\.py',
        'shortened by the shim (1 round, batch 2, small inputs); runs '
        'differing only in --out/--pair are one shape, the first runs',
        key=_benchmark_shape),
    CommandRule(
        'benchmark --compile',
        r'^python tools/benchmark\.py .*--compile',
        'run without --compile (skipped if that shape already ran)',
        cannot_run='torch.compile of a CPU step takes minutes; a GPU run '
        'is what the docs mean',
        rewrite=lambda c: c.replace(' --compile', ''),
        key=lambda c: _benchmark_shape(c.replace(' --compile', ''))),
    CommandRule(
        'figure of a later run', r'^python tools/visualize_cam\.py \S+ '
        r'work_dirs/unseen/',
        'after the training command further down its file, which writes '
        'the checkpoint it draws',
        after_file=True),
    CommandRule(
        'python tool',
        r'^python tools/\w+\.py',
        'as written; the shim appends the tool\'s shortening options and '
        'maps epoch_N.pth of a shortened run to its last checkpoint; a '
        'command identical to one that ran is not run again',
        key=lambda c: ('command', ' '.join(c.split()))),
    CommandRule(
        'dist_train.sh / dist_test.sh',
        r'^tools/dist_(train|test)\.sh \S+',
        'the first with 2 processes (gloo), later ones with 1 process '
        '(the launcher is covered); a config already trained by another '
        'command is not trained again',
        cannot_run=NOT_RUN_HERE.format('GPUs'),
        rewrite=_gpus_to_processes,
        key=lambda c: ('config'
                       if 'dist_train' in c else 'test', _config_of(c))),
]
# more specific rules first
COMMAND_RULES.sort(key=lambda rule: rule.name != 'benchmark --compile')


def classify(command: str) -> Optional[CommandRule]:
    """The first rule whose pattern is found in ``command``."""
    for rule in COMMAND_RULES:
        if re.search(rule.pattern, command):
            return rule
    return None


@dataclass
class Step:
    block: Block
    command: str  # as written (comments stripped)
    kind: str  # 'shell' or 'python'
    rule: Optional[CommandRule] = None
    run: Optional[str] = None  # what runs (None: covered or unclassified)
    note: str = ''


def plan(blocks: List[Block]) -> List[Step]:
    """Every command and Python block, classified, in document order."""
    steps, seen = [], {}
    launcher_ran = False
    for block in blocks:
        kind = block_kind(block)
        if kind == 'python':
            steps.append(Step(block, block.text, 'python', run=block.text))
            continue
        if kind != 'shell':
            continue
        variables = []  # shell variables set earlier in the block
        for command in split_commands(block.text):
            command = strip_comment(command)
            rule = classify(command)
            step = Step(block, command, 'shell', rule)
            steps.append(step)
            if rule is not None and rule.name == 'shell variables':
                variables.append(command)
                step.run = command
                continue
            if rule is None:
                step.note = (
                    'no rule in COMMAND_RULES (tests/docs/doc_commands.py) '
                    'matches this command: add one saying how the '
                    'documentation test runs it')
                continue
            key = rule.key(command) if rule.key else None
            is_launcher = rule.name.startswith('dist_')
            if key is not None and key in seen and (not is_launcher
                                                    or launcher_ran):
                step.note = f'same shape as `{seen[key]}`, which ran'
                continue
            if key is not None:
                seen[key] = command
            if is_launcher and (command.split()[0], _method(command)) in seen:
                step.note = ('same method as `{}`, which ran (another '
                             'student)'.format(seen[(command.split()[0],
                                                     _method(command))]))
                continue
            step.run = rule.rewrite(command)
            if step.run is not None and variables:
                # each command runs in its own shell: set them again
                step.run = '\n'.join(variables + [step.run])
            if is_launcher:
                if launcher_ran:
                    step.run = _gpus_to_processes(command, 1)
                    seen[(command.split()[0], _method(command))] = command
                launcher_ran = True
                seen[('config', _config_of(command))] = command
            elif rule.name == 'python tool' and _config_of(command):
                seen.setdefault(('config', _config_of(command)), command)
            if step.run is None:
                step.note = rule.how
    # commands that use what a later command of their file makes go last
    return sorted(
        steps,
        key=lambda step: (step.block.path != 'README.md', step.block.path,
                          bool(step.rule and step.rule.after_file)))


# ------------------------------------------------------------ running
@dataclass
class Result:
    step: Step
    returncode: int
    seconds: float  # wall clock
    output: str


def clone_files(root: str) -> List[str]:
    """The files a clone of the git checkout ``root`` has, relative to it:
    what git tracks plus the untracked files it does not ignore (a new doc
    not committed yet); not what `make install`, runs or Python made."""
    listed = subprocess.run([
        'git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'
    ],
                            cwd=root,
                            capture_output=True,
                            text=True,
                            check=True).stdout.split('\0')
    return sorted(
        path for path in listed if path and osp.isfile(osp.join(root, path)))


def make_fresh_clone(root: str, work: str) -> str:
    """``work`` made to look like a clone of ``root`` after ``make install``:
    a copy of the repository's files (:func:`clone_files`; copies, not
    links, so no command writes into the repository), ``.venv`` the running
    environment, and the stand-in data under ``data/``. Returns ``work``."""
    from tests.docs.standin_data import (write_cifar100, write_image_folder,
                                         write_imagenet)
    os.makedirs(work, exist_ok=True)
    for path in clone_files(root):
        os.makedirs(osp.dirname(osp.join(work, path)), exist_ok=True)
        shutil.copy2(osp.join(root, path), osp.join(work, path))
    os.symlink(sys.prefix, osp.join(work, '.venv'))
    write_imagenet(osp.join(work, 'data', 'imagenet'))
    write_cifar100(osp.join(work, 'data', 'cifar100'))
    write_image_folder(osp.join(work, 'data', 'custom'))
    return work


def shim_bin(work: str) -> str:
    """A directory with the ``python`` the commands run."""
    folder = osp.join(work, '.doctest-bin')
    os.makedirs(folder, exist_ok=True)
    for name in ('python', 'python3'):
        path = osp.join(folder, name)
        with open(path, 'w') as file:
            file.write(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} '
                       f'{shlex.quote(SHIM)} "$@"\n')
        os.chmod(path, 0o755)
    return folder


def _golden(repo: str) -> str:
    """The golden data the running suite reads (tests/conftest.py)."""
    from tests.conftest import GOLDEN
    return GOLDEN


def command_env(work: str, repo: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop('PYTHON', None)
    bin_dir = shim_bin(work)
    env.update(
        PATH=os.pathsep.join(
            [bin_dir,
             osp.dirname(sys.executable),
             env.get('PATH', '')]),
        PYTHON=osp.join(bin_dir, 'python'),
        PYTHONPATH=os.pathsep.join([STANDIN_SITE, repo]),
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        PORT='29531',
        MMCATKD_TRACEBACK='1',
        # the golden data of the suite that runs this test, for `make test`
        MMCATKD_GOLDEN=_golden(repo),
    )
    return env


def run_python_block(step: Step, work: str) -> Result:
    """Parse a Python block; a block of assignments is a config fragment,
    loaded through MMEngine where its first comment says it lives (or in
    configs/), every ``type=`` in it resolved in the registries."""
    start = time.time()
    text = step.command
    try:
        ast.parse(text)
        if _is_python_assignments(text) or text.lstrip().startswith('#'):
            check_config_fragment(text, work)
        return Result(step, 0, time.time() - start, '')
    except Exception as error:  # noqa: BLE001  (reported as the failure)
        return Result(step, 1,
                      time.time() - start, f'{type(error).__name__}: {error}')


def check_config_fragment(text: str, work: str) -> None:
    from mmengine.config import Config
    match = re.match(r'#\s*(configs/\S+\.py)\s*\n', text)
    target = osp.join(work, match.group(1)) if match else osp.join(
        work, 'configs', 'doc_fragment.py')
    path = osp.join(osp.dirname(target), '_doc_fragment_check.py')
    with open(path, 'w') as file:
        file.write(text)
    try:
        fragment = Config.fromfile(path)
    finally:
        os.remove(path)
    if match:
        # it claims to be that file: what it shows must be what the file has
        real = Config.fromfile(target)
        for key in fragment.keys():
            if key.startswith('_') or key == 'custom_imports':
                continue
            _assert_subset(fragment[key], real[key], key)
    _assert_types_registered(text)


def _assert_subset(shown, real, key):
    if isinstance(shown, dict):
        for name, value in shown.items():
            assert isinstance(real, dict) and name in real, (
                f'{key}.{name} is shown but not in the file')
            _assert_subset(value, real[name], f'{key}.{name}')
    else:
        assert shown == real, f'{key}: shown {shown!r}, the file has {real!r}'


REGISTRY_NAMES = ('MODELS', 'HOOKS', 'DATASETS', 'TRANSFORMS', 'METRICS',
                  'LOOPS', 'TASK_UTILS', 'DATA_SAMPLERS', 'OPTIM_WRAPPERS',
                  'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
                  'VISUALIZERS', 'VISBACKENDS', 'WEIGHT_INITIALIZERS')


def _assert_types_registered(text: str) -> None:
    """Every ``type='...'`` the fragment names is registered (MMPretrain's
    or MMRazor's registries, which reach MMEngine's)."""
    import mmpretrain.registry
    import mmrazor.registry

    import mmcatkd  # noqa: F401  (registers the project's parts)
    registries = [
        getattr(module, name)
        for module in (mmpretrain.registry, mmrazor.registry)
        for name in REGISTRY_NAMES if hasattr(module, name)
    ]
    for node in ast.walk(ast.parse(text)):
        if (isinstance(node, ast.keyword) and node.arg == 'type'
                and isinstance(node.value, ast.Constant)):
            kind = node.value.value
            assert any(
                registry.get(kind) is not None for registry in registries), (
                    f"type='{kind}' is in no registry")


def _random_checkpoint(config: str):
    """A checkpoint of the randomly initialised model of ``config``."""

    def make(path: str, work: str) -> None:
        import torch
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmpretrain.registry import MODELS
        cfg = Config.fromfile(osp.join(work, config))
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = MODELS.build(cfg.model)
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)

    return make


def _mdistiller_archive(name: str, config: str):
    """``cifar_teachers.tar`` as MDistiller publishes it, holding one
    stand-in teacher (random weights, MDistiller's ``{'model': ...}``)."""

    def make(path: str, work: str) -> None:
        import tarfile
        import tempfile

        import torch
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmpretrain.registry import MODELS
        cfg = Config.fromfile(osp.join(work, config))
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            model = MODELS.build(cfg.model)
        with tempfile.TemporaryDirectory() as folder:
            member = f'cifar_teachers/{name}_vanilla/ckpt_epoch_240.pth'
            os.makedirs(osp.dirname(osp.join(folder, member)))
            torch.save({
                'model': model.state_dict(),
                'epoch': 240
            }, osp.join(folder, member))
            with tarfile.open(path, 'w') as archive:
                archive.add(
                    osp.join(folder, 'cifar_teachers'), 'cifar_teachers')

    return make


def _imagenet_meta_archive(path: str, work: str) -> None:
    """``caffe_ilsvrc12.tar.gz`` as MMPretrain publishes it: the stand-in
    ImageNet's own ``train.txt`` and ``val.txt``."""
    import tarfile
    meta = osp.join(work, 'data', 'imagenet', 'meta')
    with tarfile.open(path, 'w:gz') as archive:
        for name in ('train.txt', 'val.txt'):
            archive.add(osp.join(meta, name), name)


def _digit_png(index: int):
    """Test image ``index`` of SklearnDigits, written with cv2.imwrite."""

    def make(path: str, work: str) -> None:
        import cv2

        from mmcatkd.datasets import SklearnDigits
        image = SklearnDigits(split='test').get_data_info(index)['img']
        assert cv2.imwrite(path, image)

    return make


# Files the docs assume the user already has (made by no documented
# command): path in the fresh clone -> how the test makes a stand-in.
PREREQUISITES = {
    ('docs/multiteacher.md', 'work_dirs/multiteacher/teachers/resnet50_weak_1.pth'):  # noqa: E501
    _random_checkpoint('configs/mtkd/resnet50_weak_1xb64_cifar100.py'),
    ('docs/multiteacher.md',
     'work_dirs/multiteacher/teachers/resnet50_strong_1.pth'):
    _random_checkpoint(
        'configs/mtkd/resnet50_strong_1xb64_cifar100.py'),
    # the downloads of the README's getting started
    ('README.md', 'download_ckpts/cifar_teachers.tar'):
    _mdistiller_archive('resnet32x4',
                        'configs/_base_/models/cifar100/resnet32x4.py'),
    ('README.md', 'data/imagenet/meta/caffe_ilsvrc12.tar.gz'):
    _imagenet_meta_archive,
    # the teacher of the README's CIFAR-100 commands
    ('docs/performance.md', 'work_dirs/teachers/resnet32x4.pth'):
    _random_checkpoint('configs/vanilla/resnet32x4_1xb64_cifar100.py'),
    ('docs/model_zoo.md', 'work_dirs/teachers/resnet32x4.pth'):
    _random_checkpoint('configs/vanilla/resnet32x4_1xb64_cifar100.py'),
    ('docs/your_own_pair.md', 'work_dirs/teachers/resnet32x4.pth'):
    _random_checkpoint('configs/vanilla/resnet32x4_1xb64_cifar100.py'),
    ('docs/your_own_pair.md', 'work_dirs/teachers/resnet110.pth'):
    _random_checkpoint('configs/vanilla/resnet110_1xb64_cifar100.py'),
    ('docs/visualization.md', 'test11_digit3.png'): _digit_png(11),
    ('docs/visualization.md', 'test18_digit8.png'): _digit_png(18),
    ('docs/visualization.md', 'test4_digit9.png'): _digit_png(4),
}

# Files whose commands use what the README's commands make: they run after
# the README's, in the same chain.
AFTER_README = {
    'docs/compatibility.md':
    'runs the digits CAT-KD config with the teacher of `make demo`',
    'docs/visualization.md':
    'trains from the teacher of `make demo` (work_dirs/demo/teacher)',
}


def make_prerequisites(doc: str, steps: List[Step], work: str) -> List[str]:
    """Make the PREREQUISITES of ``doc``. Returns them."""
    made = []
    for (path_doc, path), make in PREREQUISITES.items():
        if path_doc == doc and not osp.exists(osp.join(work, path)):
            os.makedirs(osp.dirname(osp.join(work, path)), exist_ok=True)
            make(osp.join(work, path), work)
            made.append(path)
    return made


def children_cpu_seconds() -> float:
    """CPU time of this process's finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_steps(steps: List[Step], work: str, env: Dict[str, str],
               timeout: float, keep_going: bool) -> List[Result]:
    results = []
    for step in steps:
        if step.run is None:
            continue
        if step.kind == 'python':
            result = run_python_block(step, work)
        else:
            start = time.time()
            completed = subprocess.run(['bash', '-c', step.run],
                                       cwd=work,
                                       env=env,
                                       capture_output=True,
                                       text=True,
                                       timeout=timeout)
            result = Result(step, completed.returncode,
                            time.time() - start,
                            (completed.stdout + completed.stderr)[-4000:])
        results.append(result)
        if result.returncode != 0 and not keep_going:
            break
    return results


def run_plan(steps: List[Step],
             base: str,
             repo: str = PROJECT_ROOT,
             timeout: float = 600,
             workers: int = 3,
             keep_going: bool = False) -> List[Result]:
    """Run the steps, each Markdown file's in order in a fresh clone of its
    own under ``base`` (``base/README.md`` ...), ``workers`` files at a
    time; the files of AFTER_README run after the README's, in its clone.
    A file stops at its first failure unless ``keep_going``."""
    from concurrent.futures import ThreadPoolExecutor
    chains: Dict[str, List[Step]] = {}
    for step in steps:
        path = step.block.path
        chains.setdefault('README.md' if path in AFTER_README else path,
                          []).append(step)

    clones = {}
    for path, chain in chains.items():  # here: model builds are not threadsafe
        work = make_fresh_clone(repo, osp.join(base, path.replace('/', '_')))
        for doc in {step.block.path for step in chain}:
            make_prerequisites(doc, [s for s in chain if s.block.path == doc],
                               work)
        clones[path] = work

    zygote = None
    if os.environ.get(FORK_VARIABLE, '1') != '0':
        zygote = Zygote(command_env(base, repo), tempfile.mkdtemp())

    def run_chain(index_and_path):
        index, path = index_and_path
        env = dict(
            command_env(clones[path], repo), PORT=str(29531 + 10 * index))
        if zygote is not None:
            env[SOCKET_VARIABLE] = zygote.path
        return _run_steps(chains[path], clones[path], env, timeout, keep_going)

    # the README's chain first: it is the longest
    order = sorted(chains, key=lambda path: path != 'README.md')
    results = []
    with contextlib.ExitStack() as stack:
        if zygote is not None:
            stack.enter_context(zygote)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for chain_results in pool.map(run_chain, enumerate(order)):
                results += chain_results
    return results


def listing(steps: List[Step]) -> str:
    """One line per command: where, how it is run, what cannot run here."""
    lines = []
    for step in steps:
        where = f'{step.block.path}:{step.block.line}'
        first = step.command.split('\n')[0][:90]
        if step.kind == 'python':
            lines.append(f'{where}  [python] {first}')
            continue
        rule = step.rule.name if step.rule else 'NO RULE'
        extra = ''
        if step.rule is not None and step.rule.cannot_run:
            extra = f' (cannot run as written: {step.rule.cannot_run})'
        lines.append(f'{where}  [{rule}] {first}{extra}' +
                     (f' -- {step.note}' if step.note else ''))
    return '\n'.join(lines)
