"""The compact golden subset in tests/data/golden is a copy of the full
golden set, not a regeneration: its manifest holds, and where the full set is
present every value in it equals its source."""
import glob
import hashlib
import json
import os.path as osp
import re

import numpy as np
import pytest

from tests.conftest import GOLDEN, GOLDEN_SUBSET

ARRAYS = ('student', 'teacher', 'grad_student')


def subset_files() -> list:
    """The data files of the subset, relative to it (its README aside)."""
    return sorted(
        osp.relpath(path, GOLDEN_SUBSET) for path in glob.glob(
            osp.join(GOLDEN_SUBSET, '**', '*'), recursive=True)
        if osp.isfile(path) and osp.basename(path) != 'README.md')


def sha256(path: str) -> str:
    with open(path, 'rb') as file:
        return hashlib.sha256(file.read()).hexdigest()


def test_subset_files_have_the_hashes_of_its_readme():
    """Every file of the subset is listed in its README's manifest with its
    SHA-256: a file re-saved or recomputed (which changes its bytes) or added
    without saying where it came from fails here, full set or not."""
    with open(osp.join(GOLDEN_SUBSET, 'README.md')) as file:
        manifest = dict((path, digest) for digest, path in re.findall(
            r'^ {4}([0-9a-f]{64})  (\S+)$', file.read(), re.MULTILINE))
    assert sorted(manifest) == subset_files()
    for path, digest in manifest.items():
        assert sha256(osp.join(GOLDEN_SUBSET, path)) == digest, path


@pytest.mark.golden_full
def test_subset_cat_loss_cases_are_those_of_the_full_set():
    """Each subset case has the full set's entry in cases.json, and its
    arrays (and only those) have the full set's dtype, shape and bytes."""

    def cases(root):
        with open(osp.join(root, 'cat_loss', 'cases.json')) as file:
            return json.load(file)

    subset, full = cases(GOLDEN_SUBSET), cases(GOLDEN)
    assert subset and set(subset) < set(full)
    assert all(subset[name] == full[name] for name in subset)
    subset_arrays = np.load(osp.join(GOLDEN_SUBSET, 'cat_loss', 'cases.npz'))
    full_arrays = np.load(osp.join(GOLDEN, 'cat_loss', 'cases.npz'))
    assert sorted(subset_arrays.files) == sorted(f'{name}/{array}'
                                                 for name in subset
                                                 for array in ARRAYS)
    for key in subset_arrays.files:
        copy, source = subset_arrays[key], full_arrays[key]
        assert copy.dtype == source.dtype and copy.shape == source.shape
        assert copy.tobytes() == source.tobytes(), key


@pytest.mark.golden_full
def test_subset_reference_models_are_byte_copies():
    """Each reference model file of the subset equals the full set's."""
    models = [
        path for path in subset_files() if path.startswith('reference_models')
    ]
    assert models
    for path in models:
        assert sha256(osp.join(GOLDEN_SUBSET,
                               path)) == sha256(osp.join(GOLDEN, path)), path
