# Two commands matter: `make run` (set up and run the daemon) and `make test` (set up and run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint check once digest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The same install step the Dockerfile runs (pip install of this project), plus the test extra.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/monitor check
	$(BIN)/monitor run

# The pipeline on a bundled corpus served on 127.0.0.1: offline, under 30 s, sends nothing.
demo: $(VENV)/.installed
	$(BIN)/monitor demo

test: $(VENV)/.installed
	$(BIN)/ruff check monitor tests benchmarks
	$(BIN)/hadolint Dockerfile
	$(BIN)/mypy
	$(BIN)/python -m pytest

check once digest: $(VENV)/.installed
	$(BIN)/monitor $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
