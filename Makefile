PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/auth_bench.py
	$(BIN)/python bench/policy_bench.py
	$(BIN)/python bench/crypto_bench.py
	$(BIN)/python bench/scan_bench.py --write
	$(BIN)/python bench/scan_corpus.py --write
	$(BIN)/python bench/sandbox_bench.py
	$(BIN)/python bench/observe_bench.py
	$(BIN)/python bench/audit_bench.py
	$(BIN)/python bench/dos_bench.py

clean:
	rm -rf $(VENV) .ramparts .pytest_cache
