# One-command setup: `make run` opens the app on the demo data, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-all clean

# Benches that train models for many minutes (bench_default_stack: about 15 on 2 cores):
# `make bench-all` runs them too.
SLOW_BENCH := benchmarks/bench_default_stack.py benchmarks/bench_recipes.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,diffusion,dask]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/imbalance-studio --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in $(filter-out $(SLOW_BENCH),$(wildcard benchmarks/bench_*.py)); do \
		$(BIN)/python $$b || exit 1; done

bench-all: bench
	for b in $(SLOW_BENCH); do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
