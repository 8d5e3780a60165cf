# make run   - set up everything, then serve the portal (production build) and the job consumer on one port
# make test  - set up everything, then run every test (unit, integration, end-to-end in Chromium)
# make lint  - ruff (check and format), import-linter (the layering contracts), mypy (strict on services/)
# make setup - the set-up alone: idempotent and quick when nothing changed

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
BUN_VERSION := 1.4.4
PORT ?= 3000
PYTEST_ARGS ?=

export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := false
export PORT

GATEWAY_VENV := .venv-gateway
GATEWAY_REQUIREMENTS := services/gateway/litellm_hooks/requirements.txt

.PHONY: setup run test lint migrate seed clean gateway gateway-venv lighthouse

setup: $(VENV)/.installed $(TOOLS)/node_modules/.bin/bun migrate seed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Lighthouse for bench/lighthouse.py (not needed to run or test the portal)
lighthouse: $(TOOLS)/node_modules/.bin/lighthouse
$(TOOLS)/node_modules/.bin/lighthouse:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) lighthouse@12.2.3

# bun from the npm registry (Reflex's own installer downloads a script from GitHub, which is unreachable here).
$(TOOLS)/node_modules/.bin/bun:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) bun@$(BUN_VERSION)
	$@ --version

migrate: $(VENV)/.installed
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/portal-admin seed

# The AI gateway (LiteLLM) in a virtualenv of its own: its dependencies are not the portal's.
$(GATEWAY_VENV)/.installed: $(GATEWAY_REQUIREMENTS)
	$(PYTHON) -m venv $(GATEWAY_VENV)
	$(GATEWAY_VENV)/bin/python -m pip install --quiet -r $(GATEWAY_REQUIREMENTS)
	touch $@

gateway-venv: $(GATEWAY_VENV)/.installed

# Serve the gateway beside `make run` (AI_GATEWAY_URL and AI_GATEWAY_MASTER_KEY set for both; README "AI gateway").
gateway: setup gateway-venv
	$(BIN)/python -m services.gateway.launch

run: setup
	-$(BIN)/portal-admin demo-image  # the demo app's image, when a Docker engine is reachable
	$(BIN)/python -m portal.serve

# The unit tests (each xdist worker with its own SQLite file and queue) run beside the integration and browser
# tests, which share one Docker engine and one production build and mostly wait on them; the unit run's output
# follows the other's. Where PostgreSQL is configured (CI always), the browser suite then runs a second time in
# the scaled configuration (tests/support/scaled.py). Branch coverage of services/ is measured over both and reported at the end.
COVERAGE := --cov=services --cov-branch --cov-report=
test: setup gateway-venv
	rm -f .coverage .coverage.* var/unit-tests.log
	( COVERAGE_FILE=.coverage.unit $(BIN)/python -m pytest tests/unit -n 2 $(COVERAGE) $(PYTEST_ARGS) \
	    > var/unit-tests.log 2>&1; echo $$? > var/unit-tests.rc ) & \
	COVERAGE_FILE=.coverage.slow $(BIN)/python -m pytest tests/integration tests/e2e $(COVERAGE) $(PYTEST_ARGS); \
	slow=$$?; \
	if [ -n "$$PORTAL_TEST_POSTGRES_URL" ] || [ "$$PORTAL_REQUIRE_ALL" = 1 ]; then \
	  echo "--- the browser suite again, scaled: PostgreSQL, Redis, two web processes behind nginx ---"; \
	  PORTAL_E2E_TOPOLOGY=scaled COVERAGE_FILE=.coverage.scaled $(BIN)/python -m pytest tests/e2e $(COVERAGE) \
	    $(PYTEST_ARGS) || slow=1; \
	fi; \
	wait; echo "--- unit tests (ran alongside) ---"; cat var/unit-tests.log; \
	unit=$$(cat var/unit-tests.rc); \
	$(BIN)/python -m coverage combine --keep .coverage.unit .coverage.slow $$(ls .coverage.scaled 2>/dev/null) >/dev/null && \
	$(BIN)/python -m coverage report --skip-covered --skip-empty --sort=cover; \
	echo "unit tests exit $$unit, integration and browser tests exit $$slow"; \
	test $$unit -eq 0 -a $$slow -eq 0

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy services portal rxconfig.py

clean:
	rm -rf .web .states var .coverage .coverage.* .mypy_cache .ruff_cache
