# `make demo` opens paygate on demo data, `make test` checks lint, format and the import
# contracts, then runs the whole suite, `make typecheck` runs mypy (strict on gateway_core),
# `make bench` measures speed and memory (minutes; writes docs/BENCHMARKS.md and
# docs/benchmarks.json).
# Each creates .venv and installs the project on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "paygate needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paygate --demo

test: lint typecheck
	$(BIN)/python -m pytest -n auto -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# The import contracts are in pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# mypy, strict on gateway_core ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy
