"""Every command of the README and docs/*.md runs as written.

The slow test runs them all, in document order, in a fresh directory laid
out like a clone after ``make install``, on stand-in data in the real
formats, each tool shortened by the options ``shim.py`` appends. The fast
tests check that every command has a rule saying how it is run, that the
Python blocks load, and that the harness fails on broken copies of the docs.
"""
import os
import os.path as osp
import shutil
import time

import pytest

from tests.docs import doc_commands
from tests.docs.doc_commands import (PROJECT_ROOT, Block, code_blocks, listing,
                                     plan, run_plan, split_commands)


def _blocks(root=PROJECT_ROOT, replace=None):
    blocks = []
    for path in doc_files(root):
        with open(osp.join(root, path)) as file:
            text = file.read()
        if replace and path in replace:
            old, new = replace[path]
            assert old in text, f'{old!r} is no longer in {path}'
            text = text.replace(old, new)
        blocks += code_blocks(path, text)
    return blocks


doc_files = doc_commands.doc_files


def _unclassified(steps):
    return [step for step in steps if step.kind == 'shell' and not step.rule]


def test_every_documented_command_has_a_rule():
    """A command in the docs that no COMMAND_RULES entry matches fails here
    (and in the slow run), naming it: its author adds a rule saying how the
    documentation test runs it."""
    steps = plan(_blocks())
    missing = _unclassified(steps)
    assert not missing, 'commands without a rule:\n' + listing(missing)
    assert any(step.run for step in steps)


def test_a_new_command_without_a_rule_is_reported():
    steps = plan([Block('README.md', 1, 'bash', 'tools/new_launcher.sh 8\n')])
    assert [step.command
            for step in _unclassified(steps)] == ['tools/new_launcher.sh 8']
    assert 'add one' in listing(steps)


def test_commands_are_split_as_bash_reads_them():
    text = ('python tools/a.py x \\\n    --y z   # comment\n\n'
            'C=c D=d\nfor c in a b; do\n  python tools/t.py $C/$c.py\ndone\n'
            'python tools/v.py CONFIG\n    [--flag]\n')
    assert split_commands(text) == [
        'python tools/a.py x --y z   # comment', 'C=c D=d',
        'for c in a b; do\npython tools/t.py $C/$c.py\ndone',
        'python tools/v.py CONFIG [--flag]'
    ]
    assert doc_commands.strip_comment("make test PYTEST_ARGS='-k a#b'  # why"
                                      ) == ("make test PYTEST_ARGS='-k a#b'")


def test_gpu_counts_become_two_processes():
    rule = doc_commands.classify('tools/dist_train.sh configs/x.py 8')
    assert rule.cannot_run and rule.rewrite(
        'tools/dist_train.sh configs/x.py 8 --amp') == (
            'tools/dist_train.sh configs/x.py 2 --amp')
    assert rule.rewrite('tools/dist_test.sh c.py ckpt.pth 4') == (
        'tools/dist_test.sh c.py ckpt.pth 2')


def test_python_blocks_of_the_docs_load(tmp_path):
    """Config fragments load through MMEngine where they say they live, show
    what that file has, and name registered hooks."""
    work = str(tmp_path)  # a copy: fragments are written beside configs
    shutil.copytree(
        osp.join(PROJECT_ROOT, 'configs'), osp.join(work, 'configs'))
    steps = [step for step in plan(_blocks()) if step.kind == 'python']
    assert steps
    results = [doc_commands.run_python_block(step, work) for step in steps]
    failed = [(r.step.block.path, r.step.block.line, r.output) for r in results
              if r.returncode]
    assert not failed


@pytest.mark.parametrize('broken', [
    "custom_hooks = [dict(type='CAMAgreementHok')]",
    "# configs/catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py\n"
    "_base_ = ['./_base_/catkd_cifar100.py']\n"
    "model = dict(distiller=dict(cat_loss=dict(loss_weight=16)))",
    'model = dict(',
])
def test_a_broken_python_block_fails(tmp_path, broken):
    """A misspelt hook, a fragment that no longer matches its file, a
    syntax error."""
    work = str(tmp_path)  # a copy: fragments are written beside configs
    shutil.copytree(
        osp.join(PROJECT_ROOT, 'configs'), osp.join(work, 'configs'))
    steps = plan([Block('docs/x.md', 1, 'python', broken)])
    assert doc_commands.run_python_block(steps[0], work).returncode == 1


def test_a_fresh_clone_is_a_copy_not_links_into_the_repository(tmp_path):
    """Every file of the repository is copied into the fresh clone and
    nothing but .venv links out of it, so a documented command that writes
    into the tree (the CAM figure goes to docs/images/) writes the copy."""
    work = doc_commands.make_fresh_clone(PROJECT_ROOT, str(tmp_path / 'c'))
    links, files = [], set()
    for folder, folders, names in os.walk(work):
        for name in folders + names:
            path = osp.join(folder, name)
            if osp.islink(path):
                links.append(osp.relpath(path, work))
            elif name in names:
                files.add(osp.relpath(path, work))
    assert links == ['.venv']
    repository = doc_commands.clone_files(PROJECT_ROOT)
    assert 'docs/images/cams_unseen_digits.png' in repository
    assert set(repository) <= files


def _run(steps, tmp_path):
    return run_plan(steps, str(tmp_path))


@pytest.mark.slow
def test_every_documented_command_runs(tmp_path):
    steps = plan(_blocks())
    assert not _unclassified(steps), listing(_unclassified(steps))
    print('\n' + listing(steps))
    start, cpu = time.time(), doc_commands.children_cpu_seconds()
    results = _run(steps, tmp_path)
    report = '\n'.join(
        f'{r.returncode:3d} {r.seconds:6.1f} s  {r.step.block.path}:'
        f'{r.step.block.line} {r.step.command.splitlines()[0][:80]}'
        for r in results)
    print(f'\n{report}\ntotal {time.time() - start:.1f} s wall, '
          f'{doc_commands.children_cpu_seconds() - cpu:.1f} s CPU')
    failed = [r for r in results if r.returncode]
    assert not failed, (
        f'{failed[0].step.block.path}:{failed[0].step.block.line} '
        f'`{failed[0].step.command}` failed (ran as `{failed[0].step.run}`):\n'
        f'{failed[0].output}')
    assert len(results) == sum(1 for step in steps if step.run)


@pytest.mark.slow
def test_the_harness_fails_on_a_broken_copy_of_the_readme(tmp_path):
    """The README's former line, testing with a model-only config (no test
    loop), run as the harness runs the README: it must fail."""
    old = ('python tools/test.py configs/_base_/models/cifar100/resnet8x4.py '
           'student.pth')
    blocks = _blocks(
        replace={
            'README.md': ('python tools/test.py configs/vanilla/'
                          'resnet8x4_1xb64_cifar100.py student.pth', old)
        })
    steps = [step for step in plan(blocks) if step.command == old]
    assert len(steps) == 1 and steps[0].run == old
    results = _run(steps, tmp_path)
    assert results[0].returncode != 0
    assert 'test_dataloader' in results[0].output  # no test loop
