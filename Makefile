# Two commands matter: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test install lint typecheck bench clean-data

run: $(STAMP)  ## start PostgreSQL (embedded unless DATABASE_URL is set), the API and ingestion
	$(BIN)/mdp run

test: $(STAMP)  ## lint, layer contracts, then every test against a real PostgreSQL
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/backfill_vs_copy.py

clean-data:  ## delete the embedded database (stop `make run` first)
	rm -rf .data
