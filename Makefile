# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 1
THREADS ?= 8
CHROMIUM ?= /usr/bin/chromium
# pytest-xdist workers: one per core by default; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal)
# The slowest tests of each run are listed at its end, to keep CI within its time.
PYTEST_ARGS ?= --durations=15

.PHONY: run test lint format chromium pdf-fonts test-sqlite test-postgresql clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## run: install, migrate instance/clinic.sqlite3 (or DATABASE_URL) and serve on http://$(HOST):$(PORT)
run: $(VENV)/.installed pdf-fonts
	$(BIN)/flask --app clinic db upgrade
	@echo "Serving clinic on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	exec $(BIN)/gunicorn --config python:clinic.gunicorn_conf \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) 'clinic:create_app()'

## test: lint, then the whole suite on SQLite, and on PostgreSQL when CLINIC_TEST_DATABASE_URL is set
## (the browser tests, which drive the same pages through Chromium, in the SQLite pass only)
test: $(VENV)/.installed-dev lint chromium pdf-fonts test-sqlite test-postgresql

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check clinic tests bench
	$(BIN)/ruff format --check clinic tests bench
	$(BIN)/mypy
	# Security lint: medium and high findings fail (docs/security.md explains the lows).
	$(BIN)/bandit -r clinic -q -ll

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix clinic tests bench
	$(BIN)/ruff format clinic tests bench

# Browser tests drive Debian's Chromium. Install it when it is missing and we are allowed to.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null) \
			|| echo "*** Could not install chromium: the browser tests will be skipped (failed under CI=true) ***"; \
	else \
		echo "*** $(CHROMIUM) is missing and cannot be installed here: the browser tests will be skipped (failed under CI=true) ***"; \
	fi

# WeasyPrint subsets the fonts it embeds with HarfBuzz when libharfbuzz-subset is there, and
# with fontTools (several times slower) when it is not. Install it when we are allowed to.
pdf-fonts:
	@if /sbin/ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's libharfbuzz-subset0 for fast PDFs..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null) \
			|| echo "*** Could not install libharfbuzz-subset0: PDFs are laid out more slowly ***"; \
	else \
		echo "*** libharfbuzz-subset0 is missing: PDFs work, but are laid out more slowly (see README) ***"; \
	fi

test-sqlite: $(VENV)/.installed-dev
	$(BIN)/python -m pytest --backend=sqlite $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-postgresql: $(VENV)/.installed-dev
	@if [ -n "$$CLINIC_TEST_DATABASE_URL" ]; then \
		$(BIN)/python -m pytest --backend=postgresql --ignore=tests/browser $(PYTEST_PARALLEL) $(PYTEST_ARGS); \
	else \
		echo "CLINIC_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/browser/screenshots
