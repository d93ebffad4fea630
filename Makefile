# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install test test-slow demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when the package metadata changes; torch first, so the CPU build is the one kept.
$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(INSTALLED)

test: $(INSTALLED)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(INSTALLED)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

demo: $(INSTALLED)
	$(VENV)/bin/rudistill demo

bench: $(INSTALLED)
	@set -e; for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
