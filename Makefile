# The README's two commands: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint browser-setup check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "passport needs Python 3.11 or newer (set PYTHON=...)")'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install (for `make run`) and test install (for `make test`), each redone when pyproject.toml changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.run-installed

# The database (passport.db), development keys (keys/) and demo API keys (.demo-keys.json) stay beside the
# repository, git-ignored; a second `make run` finds them and starts at once.
run: $(VENV)/.run-installed
	@$(BIN)/passport init
	@$(BIN)/passport demo --keys-file .demo-keys.json
	@echo "passport: serving on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	$(BIN)/passport serve --host $(HOST) --port $(PORT)
# The demo's scan URLs and QR codes are made from the public base URL: the address served (so `make run PORT=9000`
# prints links to port 9000), unless PASSPORT_PUBLIC_BASE_URL is set (a name phones can reach), which wins.
# (A target-specific variable, after the recipe: exported to every line of it, and no shell syntax in the recipe.)
run: export PASSPORT_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check passport tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/passport schema check --dir schemas

# The browser tests (tests/browser, tests/test_qr.py) need Debian's Chromium, poppler's pdftoppm and axe-core
# (npm package, into .cache/npm). Installed here when missing and possible (apt-get as root); otherwise those tests
# skip with a message saying so, and fail under CI=true.
CHROMIUM ?= /usr/bin/chromium
AXE      := .cache/npm/node_modules/axe-core/axe.min.js

browser-setup:
	@if [ ! -x $(CHROMIUM) ] || ! command -v pdftoppm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "browser-setup: installing chromium and poppler-utils"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils; \
	  else echo "browser-setup: chromium or pdftoppm missing (install them as root): browser tests will skip"; fi; \
	fi
	@if [ ! -f $(AXE) ]; then \
	  if command -v npm >/dev/null 2>&1; then \
	    npm install --prefix .cache/npm --no-audit --no-fund --silent axe-core@4; \
	  else echo "browser-setup: npm missing: the axe-core checks will skip"; fi; \
	fi

# pytest's exit code 5 (no tests collected) counts as a failure.
test: lint browser-setup
	@$(BIN)/python -m pytest --cov=passport --cov-report=term-missing:skip-covered; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov

# Benchmarks against the floors (DESIGN §9, docs/performance.md); not part of `make test`. `make bench-data` builds
# the PostgreSQL data sets of the scale benchmark once (10k, 100k, 1M passports; kept between runs); `make bench`
# runs every benchmark in full (PostgreSQL at 127.0.0.1:5432, user postgres; BENCH_POSTGRES_ADMIN_URL overrides),
# `make bench-quick` with small sizes. Both print the table and write bench/results.json.
# The resolver's load comes from Debian's wrk, installed here when missing and possible (apt-get as root); without it
# the benchmark falls back to its Python client (bench/load.py).
.PHONY: bench bench-quick bench-data bench-setup

bench-setup:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "bench-setup: installing wrk"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else echo "bench-setup: wrk missing (install it as root): the Python load client is used"; fi; \
	fi

bench-data: $(VENV)/.run-installed
	$(BIN)/python -m bench.dataset

bench: $(VENV)/.run-installed bench-setup
	$(BIN)/python -m bench

bench-quick: $(VENV)/.run-installed bench-setup
	$(BIN)/python -m bench --quick

# Load and soak test (issue 11, tests/load/README.md): a throwaway PostgreSQL cluster of its own, `passport serve
# --workers 2` on loopback, mixed traffic for 5 minutes, then every acknowledged write checked and the store verified.
# `make soak SOAK_ARGS=--outage` also stops the database mid-run and measures the recovery. Not part of `make test`;
# results in tests/load/results-*.json.
.PHONY: soak
SOAK_ARGS ?=

soak: $(VENV)/.run-installed
	$(BIN)/python -m tests.load.soak $(SOAK_ARGS)
