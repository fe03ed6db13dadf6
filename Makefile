# `make demo` and `make test` create (or reuse) $(VENV), install the pinned set
# (MIM without its dependencies, see requirements/mim.txt) and mmcatkd in
# editable mode, then run. Reinstalling is skipped while the
# requirement files and setup.py are unchanged.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmcatkd-installed
PYTEST_ARGS ?=

.PHONY: install test test-fast test-cuda cuda-check demo clean-venv

install: $(STAMP)

$(STAMP): requirements/pinned.txt requirements/mim.txt requirements/runtime.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/pinned.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/mim.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

# The fast tier for iterating: everything not marked slow (under a minute).
test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS) tests

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
