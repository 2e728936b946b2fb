# Two commands matter: `make run` (set up and run the daemon) and `make test` (set up and run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint lock check once digest bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The install the Dockerfile runs: every package from a hashed lock (requirements-test.lock adds the
# test extra to the image's requirements.lock, same versions), then this project without dependencies.
$(VENV)/.installed: pyproject.toml requirements-test.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Compose files are linted by dclint (from the npm registry), installed beside the venv.
DCLINT := $(VENV)/node/node_modules/.bin/dclint
$(DCLINT):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node dclint@3.1.0

# Rewrite both lock files after a change to pyproject.toml's requirements (uv resolves them).
lock: $(VENV)/.installed
	$(BIN)/pip install --quiet 'uv>=0.5'
	PATH=$(BIN):$$PATH $(BIN)/python scripts/lock.py

run: $(VENV)/.installed
	$(BIN)/monitor check
	$(BIN)/monitor run

# The pipeline on a bundled corpus served on 127.0.0.1: offline, under 30 s, sends nothing.
demo: $(VENV)/.installed
	$(BIN)/monitor demo

# tests/test_browser.py drives Chromium and chromedriver from the system packages: installed
# here when missing and possible (root with apt-get, as in CI); else that test is skipped.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "no chromium (needs root and apt-get): tests/test_browser.py will be skipped"; fi

test: $(VENV)/.installed $(DCLINT) browser
	$(BIN)/ruff check monitor tests benchmarks scripts
	$(BIN)/hadolint Dockerfile
	$(DCLINT) --max-warnings 0 compose.yaml
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

check once digest: $(VENV)/.installed
	$(BIN)/monitor $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
