# Two commands set everything up on a fresh machine:
#   make run   — install what is missing, then start the gateway (on the embedded emulator by default)
#   make test  — install what is missing, then run lint, types and the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := web/node_modules/.installed
#: GraphiQL's npm files inside the package, for the wheel (ignored by git; `make dist` fills it).
PACKAGED_ASSETS := src/events_gateway/server/assets
DIST ?= dist
CLIENTS := clients/node_modules/.installed
LIVE_CLIENT := clients/live/node_modules/.installed

.PHONY: run test setup browser redis lint typecheck pytest bench dist screenshot clean

run: setup
	$(BIN)/events-gateway serve

test: setup browser redis lint typecheck pytest

setup: $(STAMP) $(ASSETS) $(CLIENTS) $(LIVE_CLIENT)

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

# The JavaScript clients the tests drive (code generator, Relay, Apollo Client), pinned by the lockfile.
$(CLIENTS): clients/package.json clients/package-lock.json
	npm ci --silent --prefix clients --no-audit --no-fund
	touch $@

# Apollo Client over graphql-ws, which the live-query tests drive against a running gateway.
$(LIVE_CLIENT): clients/live/package.json clients/live/package-lock.json
	npm ci --silent --prefix clients/live --no-audit --no-fund
	touch $@

# The browser test needs Debian's Chromium and its driver; install them when they are missing.
browser:
	@scripts/ensure-chromium

# The cache and persisted-query tests start real redis-server processes; install Debian's when missing.
redis:
	@scripts/ensure-redis

# lint-imports checks the package layers and surfaces declared in pyproject.toml ([tool.importlinter]).
lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-logo

# mypy checks src strictly and the tests with two reliefs, both from pyproject.toml ([tool.mypy]).
typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/nested.py

# A wheel that serves GraphiQL on its own: GraphiQL's npm files are copied into the package first.
dist: setup
	rm -rf build $(DIST)/events_gateway-*.whl
	$(BIN)/python scripts/package-graphiql-assets web/node_modules $(PACKAGED_ASSETS)
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(DIST) .
	@ls $(DIST)/events_gateway-*.whl

# Redraws docs/images/call-plan.png: the browser test of the call-plan panel saves what it checked.
screenshot: setup browser
	CALL_PLAN_SCREENSHOT=$(CURDIR)/docs/images/call-plan.png $(BIN)/pytest -q \
		tests/server/test_graphiql_browser.py -k test_the_panel_draws_one_bar_per_upstream_call

clean:
	rm -rf $(VENV) web/node_modules clients/node_modules clients/live/node_modules $(PACKAGED_ASSETS) build dist .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
