# The two Quickstart commands (`make run`, `make test`) and their helpers.
# Everything installs into .venv; the only prerequisite is Python >= 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATABASE ?= sqlite:///kosiflow.db

.PHONY: run test lint unit bench bench-api bench-scale clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "kosiflow needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: serve kosiflow on http://127.0.0.1:8000 from a SQLite file (the demo loaded on first start)
run: $(VENV)/.installed
	$(BIN)/kosiflow --database $(DATABASE) serve

## lint: ruff, ruff format --check, mypy --strict
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## test: lint, then every test (PostgreSQL tests need the server of KOSIFLOW_TEST_POSTGRES_URL)
test: lint
	$(BIN)/python -m pytest

## bench: the benchmarks of bench/README.md
bench: $(VENV)/.installed
	$(BIN)/python bench/commands.py

## bench-api: requests/s and p50/p99 of the HTTP API against a bare FastAPI ceiling (needs wrk)
bench-api: $(VENV)/.installed
	$(BIN)/python bench/api.py --json bench/.data/api.json

## bench-scale: mixed commands/s over HTTP with 1, 2 and 4 workers on PostgreSQL (needs wrk)
bench-scale: $(VENV)/.installed
	$(BIN)/python bench/scale.py --json bench/.data/scale.json

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
