# Two commands matter: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Installs come from the locks (exact versions with hashes, made by `make lock`);
# the ranges in pyproject.toml are for library users.
RUN_LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
HASH   := $(shell cat pyproject.toml $(RUN_LOCK) $(DEV_LOCK) 2>/dev/null | cksum | cut -d' ' -f1)
# `make run` needs only the runtime dependencies; `make test` adds the dev tools.
RUN_STAMP := $(VENV)/.run-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# The locking tool, needed by `make lock` only; `make lock UPGRADE=1` moves every pin to the newest allowed.
UV     := uv==0.13.9
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)

.PHONY: run test install lock lint typecheck bench clean-data chromium promtool wrk

run: $(RUN_STAMP)  ## start PostgreSQL (embedded unless DATABASE_URL is set), the API and ingestion
	$(BIN)/mdp run

test: $(DEV_STAMP) chromium promtool wrk  ## lint, layer contracts, then every test against a real PostgreSQL (and a headless Chromium)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

install: $(DEV_STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml $(RUN_LOCK) | $(BIN)/python
	$(PIP) --require-hashes -r $(RUN_LOCK)
	$(PIP) --no-deps -e .
	@rm -f $(VENV)/.run-*
	@touch $@

$(DEV_STAMP): pyproject.toml $(DEV_LOCK) | $(BIN)/python
	$(PIP) --require-hashes -r $(DEV_LOCK)
	$(PIP) --no-deps -e .
	@rm -f $(VENV)/.run-* $(VENV)/.dev-*
	@touch $@ $(RUN_STAMP)

# Re-resolve both locks from pyproject.toml for every platform (Linux, macOS,
# x86_64, aarch64), hashes of every wheel and sdist included; pins that still fit
# pyproject.toml are kept unless UPGRADE=1. The runtime lock takes the dev lock's
# versions, so `make run` installs what `make test` tested.
lock: | $(BIN)/python
	$(PIP) '$(UV)'
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) -c $(DEV_LOCK) -o $(RUN_LOCK)

# The dashboard's browser test drives Debian's Chromium through Playwright (whose
# own browser download does not work offline). Installed here when missing and
# we are root; otherwise the test names what to install.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)); \
	  else echo "chromium not found: install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/it"; fi

# `promtool check metrics` (Debian's prometheus package) lints /metrics as Prometheus itself would.
promtool:
	@command -v promtool >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing promtool (Debian: prometheus) for the metrics format test"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null)); \
	  else echo "promtool not found: install it (Debian: apt-get install prometheus) or set PROMTOOL=/path/to/it"; fi

# The short load run (tests/integration/test_load_short.py, bench/load.py) drives the service with wrk.
wrk:
	@command -v wrk >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing wrk for the load test"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)); \
	  else echo "wrk not found: install it (Debian: apt-get install wrk) or set WRK=/path/to/it"; fi

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python bench/backfill_vs_copy.py
	$(BIN)/python bench/candles_vs_sql.py
	$(BIN)/python bench/candles_write_through.py
	$(BIN)/python bench/stream_fanout.py
	$(BIN)/python bench/takeover.py

clean-data:  ## delete the embedded database (stop `make run` first)
	rm -rf .data
