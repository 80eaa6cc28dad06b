# Two commands set everything up on a fresh machine:
#   make run   — install what is missing, then start the gateway (on the embedded emulator by default)
#   make test  — install what is missing, then run lint, types and the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := web/node_modules/.installed

.PHONY: run test setup browser redis lint typecheck pytest bench clean

run: setup
	$(BIN)/events-gateway serve

test: setup browser redis lint typecheck pytest

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# GraphiQL's scripts and styles come from the npm registry at set-up time and are served by the gateway,
# so the page works on a machine without internet access.
$(ASSETS): web/package.json web/package-lock.json
	npm ci --silent --prefix web --no-audit --no-fund
	touch $@

# The browser test needs Debian's Chromium and its driver; install them when they are missing.
browser:
	@scripts/ensure-chromium

# The cache and persisted-query tests start real redis-server processes; install Debian's when missing.
redis:
	@scripts/ensure-redis

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/nested.py

clean:
	rm -rf $(VENV) web/node_modules .mypy_cache .pytest_cache .ruff_cache
