# Two commands on a fresh clone: `make run` and `make test`. Both bootstrap .venv themselves.
# `make test` lints first (ruff, mypy: `make lint` alone), then runs pytest; `make fmt` fixes style.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_PATHS := service tests bench alembic

.PHONY: run test lint fmt install bench clean openapi browsers

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/skillcred dev-serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy service

# Fixes first, then formatting, so the fixed code ends up formatted too.
fmt: $(STAMP)
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

# Three xdist workers on two cores: many tests wait on servers, subprocesses and PostgreSQL (with
# two workers the run used 1.35 cores on average). Measured on this 2-core machine, `.ci/run`:
# -n 2 19m45s, -n 3 17m52s (2026-12-05); 13m56s once PostgreSQL tests stopped truncating every table
# and apps stopped loading the CA roots at start-up (--dist worksteal measured 14m43s beside it).
test: lint browsers
	$(BIN)/python -m pytest -n 3 $(PYTEST_ARGS)

# What the browser tests (tests/browser) drive: Debian's Chromium, installed with apt when missing,
# and axe-core from npm, installed from the lock file when it changed. Nothing downloads a browser.
browsers: tests/browser/node_modules/.package-lock.json
	scripts/ensure-chromium

tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent

bench: $(STAMP)
	$(BIN)/python bench/vc_core.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

openapi: $(STAMP)
	$(BIN)/skillcred openapi > openapi.yaml
