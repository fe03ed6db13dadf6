# `make demo` and `make test` create (or reuse) $(VENV), install the pinned set
# (MIM without its dependencies, see requirements/mim.txt) and mmcatkd in
# editable mode, then run. Reinstalling is skipped while the
# requirement files and setup.py are unchanged.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmcatkd-installed
PYTEST_ARGS ?=
# pytest workers of `make test`/`make test-fast` (pytest-xdist): one per CPU
# core; TEST_WORKERS=0 runs the tests in this process, one after another.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install lint test test-fast test-cuda cuda-check demo clean-venv

install: $(STAMP)

# requirements/timm.txt (the timm extra) too: its tests run in `make test`.
$(STAMP): requirements/pinned.txt requirements/timm.txt requirements/mim.txt requirements/runtime.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/pinned.txt
	$(PY) -m pip install --quiet -r requirements/timm.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/mim.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# flake8 with the settings in setup.cfg (the isort/yapf settings there are
# for editors and pre-commit; the tree is not yet formatted by them).
LINT_STAMP := $(VENV)/.mmcatkd-lint-installed

$(LINT_STAMP): requirements/lint.txt | $(STAMP)
	$(PY) -m pip install --quiet -r requirements/lint.txt
	touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(PY) -m flake8 mmcatkd tools tests configs setup.py

test: install
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS) tests

# The fast tier for iterating: everything not marked slow (under a minute).
test-fast: install
	$(PY) -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS) tests

# The CUDA tier (tests/cuda, skipped without a GPU) and the full-size GPU
# checks with a results table (under 8 minutes on one GPU).
test-cuda: install
	$(PY) -m pytest -m cuda $(PYTEST_ARGS) tests/cuda

cuda-check: install
	$(PY) tools/cuda_check.py --out cuda_check.json --force

demo: install
	$(PY) tools/demo.py

clean-venv:
	rm -rf $(VENV)
