# aecrypt — every command sets up its own environment first (a .venv, no conda needed).
#   make book                    default sweep on synthetic phantoms, then the HTML book
#   make book PROFILE=tiny       a quick check of the whole chain
#   make book PROFILE=real DATA=folder:/path/to/xrays
#   make test                    the test suite (includes building the book at tiny)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= default
DATA    ?=
GRID    ?=
WORKERS ?=
SWEEP_ARGS = --profile $(PROFILE) $(if $(DATA),--data $(DATA)) $(if $(GRID),--grid $(GRID)) $(if $(WORKERS),--workers $(WORKERS))

.PHONY: setup test book sweep results lab bench lint clean clean-all

setup: $(STAMP)

# Re-installs only when pyproject.toml changes; the editable install picks up source edits.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "aecrypt needs Python >= 3.11 (found $$($(PYTHON) --version)); set PYTHON=python3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q -ra

sweep: setup
	$(BIN)/aecrypt sweep $(SWEEP_ARGS)

results: setup
	$(BIN)/aecrypt results --profile $(PROFILE)

# The book is built even when some runs failed (the pages list them); make still exits non-zero then.
book: setup
	$(BIN)/aecrypt sweep $(SWEEP_ARGS); status=$$?; \
	$(BIN)/aecrypt book --profile $(PROFILE) && exit $$status

lab: setup
	$(BIN)/jupyter lab --notebook-dir=.

bench: setup
	$(BIN)/python benchmarks/run.py

lint: setup
	$(BIN)/ruff check aecrypt tests benchmarks
	$(BIN)/ruff format --check aecrypt tests benchmarks

clean:
	rm -rf results _build .cache .pytest_cache

clean-all: clean
	rm -rf $(VENV)
