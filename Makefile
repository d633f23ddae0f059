# The README's two commands: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint check-python clean

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

lint: $(VENV)/.test-installed
	$(BIN)/ruff check passport tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/passport schema check --dir schemas

# pytest's exit code 5 (no tests collected) counts as a failure.
test: lint
	@$(BIN)/python -m pytest --cov=passport --cov-report=term-missing:skip-covered; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
