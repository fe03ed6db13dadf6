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

.PHONY: install lint format test test-fast test-cuda cuda-check demo clean-venv

install: $(STAMP)

# requirements/timm.txt (the timm extra) too: its tests run in `make test`.
$(STAMP): requirements/pinned.txt requirements/timm.txt requirements/mim.txt requirements/runtime.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/pinned.txt
	$(PY) -m pip install --quiet -r requirements/timm.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/mim.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# flake8, isort and yapf with the settings in setup.cfg (OpenMMLab's), as
# .pre-commit-config.yaml runs them: the tree is formatted by isort then
# yapf, and `make lint` fails on any difference (`make format` applies them).
LINT_STAMP := $(VENV)/.mmcatkd-lint-installed

$(LINT_STAMP): requirements/lint.txt | $(STAMP)
	$(PY) -m pip install --quiet -r requirements/lint.txt
	touch $(LINT_STAMP)

LINT_PATHS := mmcatkd tools tests configs setup.py

lint: $(LINT_STAMP)
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff --recursive --parallel $(LINT_PATHS)

format: $(LINT_STAMP)
	$(PY) -m isort $(LINT_PATHS)
	$(PY) -m yapf --in-place --recursive --parallel $(LINT_PATHS)

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
