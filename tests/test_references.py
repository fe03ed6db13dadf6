"""The tree explains itself to a reader without the project's tracker.

- No comment, docstring or document cites a tracker issue or one of its
  items (an issue or item number means nothing outside the tracker; say
  what the code or test protects instead). Links to other projects' issues,
  ``owner/repo#N`` or ``github.com/owner/repo/issues/N``, stay allowed.
- Every tool, document, config or module that the package, the tools, the
  configs and the docs name by its path exists (``tools/NAME.py`` with an
  upper-case stem is a placeholder), and every upper-case ``*.md`` file
  named anywhere, the tests included, is in the repository.

Each failure names the file and line.
"""
import os
import os.path as osp
import re
from typing import Iterator, List, Tuple

from tests.conftest import PROJECT_ROOT

#: what is scanned, relative to the project root
SCANNED = ('README.md', 'configs', 'docs', 'mmcatkd', 'tests', 'tools')
#: scanned for paths that must exist (the tests name missing files on
#: purpose, as bad input)
PRODUCT = ('README.md', 'configs', 'docs', 'mmcatkd', 'tools')
TEXT_SUFFIXES = ('.py', '.md', '.yml', '.yaml', '.sh', '.cfg', '.txt')

TRACKER = re.compile(
    r'\bissues?\s*#?\s*\d+'  # an issue by number, with or without '#'
    r'|\bitems?\s+\d+'  # an item of one
    r'|(?<![\w/.\'"-])#\d+\b',  # a bare '#N', not owner/repo#N or '#000'
    re.IGNORECASE)
PATH = re.compile(r'(?<![\w/.-])((?:tools|docs|configs|mmcatkd)/'
                  r'[\w./-]*\w\.(?:py|sh|md))\b')
UPPER_DOC = re.compile(r'(?<![\w/.-])([A-Z][A-Z_]*\.md)\b')


def text_lines(root: str, names=SCANNED) -> Iterator[Tuple[str, int, str]]:
    """Yield (path relative to ``root``, line number, line) of every text
    file under ``names``; hidden folders and ``__pycache__`` are skipped."""
    for name in names:
        top = osp.join(root, name)
        if osp.isfile(top):
            files = [top]
        else:
            files = []
            for folder, subfolders, filenames in os.walk(top):
                subfolders[:] = sorted(
                    d for d in subfolders
                    if not d.startswith('.') and d != '__pycache__')
                files += [
                    osp.join(folder, f) for f in sorted(filenames)
                    if f.endswith(TEXT_SUFFIXES)
                ]
        for path in files:
            with open(path, encoding='utf-8') as f:
                for number, line in enumerate(f, 1):
                    yield osp.relpath(path, root), number, line.rstrip('\n')


def tracker_references(root: str, names=SCANNED) -> List[str]:
    """``'path:line: text'`` of every line that cites a tracker issue or
    item."""
    return [
        f'{path}:{number}: {line.strip()}'
        for path, number, line in text_lines(root, names)
        if TRACKER.search(line)
    ]


def missing_paths(root: str, names=PRODUCT) -> List[str]:
    """``'path:line: missing'`` for every repository path named under
    ``names`` that does not exist (placeholders with an upper-case stem
    aside)."""
    found = []
    for path, number, line in text_lines(root, names):
        for named in PATH.findall(line):
            stem = osp.splitext(osp.basename(named))[0]
            if stem.isupper() or osp.exists(osp.join(root, named)):
                continue
            found.append(f'{path}:{number}: {named} does not exist')
    return found


def missing_upper_docs(root: str, names=SCANNED) -> List[str]:
    """``'path:line: missing'`` for every upper-case ``*.md`` (README.md
    and the like) named under ``names`` that no folder of the repository
    holds."""
    present = set()
    for folder, subfolders, filenames in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith('.')]
        present.update(f for f in filenames if f.endswith('.md'))
    return [
        f'{path}:{number}: {named} does not exist'
        for path, number, line in text_lines(root, names)
        for named in UPPER_DOC.findall(line) if named not in present
    ]


def test_no_tracker_references():
    found = tracker_references(PROJECT_ROOT)
    assert not found, (
        'say what the code protects instead of citing the tracker:\n' +
        '\n'.join(found))


def test_named_paths_exist():
    found = missing_paths(PROJECT_ROOT) + missing_upper_docs(PROJECT_ROOT)
    assert not found, 'stale references:\n' + '\n'.join(found)


def _tree(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def test_tracker_references_are_found_with_file_and_line(tmp_path):
    """Planted citations (built here, so this file cites nothing) are
    found where they are; links to other projects' issues, markdown
    anchors and colours are not citations."""
    cited = [
        '"""%s #%d, item %d: a resume is exact."""' % ('Issue', 7, 2),
        '# the limit (%s #%d)' % ('issue', 17),
        'tests for %s %d and %d' % ('items', 4, 5),
        'CACHED = 0.6  # (#%d)' % 17,
    ]
    allowed = [
        'see [GzyAftermath/CAT-KD#7](https://github.com/GzyAftermath/'
        'CAT-KD/issues/7)',
        '([pair](your_own_pair.md#3-which-beta))',
        "color = '#000'",
        'x = 1  # one item per class',
    ]
    root = _tree(
        tmp_path, {
            'tests/test_x.py': '\n'.join(['import os'] + cited[:2]) + '\n',
            'docs/a.md': '\n'.join(allowed + cited[2:]) + '\n',
            'docs/image.png': cited[0],
            'mmcatkd/.mim/x.py': cited[0],
            'mmcatkd/__pycache__/x.py': cited[0],
        })
    assert tracker_references(root) == [
        'docs/a.md:5: ' + cited[2],
        'docs/a.md:6: ' + cited[3],
        'tests/test_x.py:2: ' + cited[0],
        'tests/test_x.py:3: ' + cited[1],
    ]


def test_missing_paths_are_found_with_file_and_line(tmp_path):
    """A config naming a tool that does not exist and a test naming a
    design document the repository does not have are found; existing
    paths and placeholders are not."""
    design = 'DESIGN' + '.md'  # so that this file names none
    root = _tree(
        tmp_path, {
            'tools/train.py': '',
            'docs/guide.md': 'run tools/train.py or tools/NAME.py\n',
            'configs/recipes.yml': 'made by: tools/render_all.py\n',
            'tests/test_layers.py': f'"""as {design} says"""\n',
            'README.md': 'see docs/guide.md\n',
        })
    assert missing_paths(root) == [
        'configs/recipes.yml:1: tools/render_all.py does not exist'
    ]
    assert missing_upper_docs(root) == [
        f'tests/test_layers.py:1: {design} does not exist'
    ]
