# Two commands on a fresh clone: `make run` and `make test`. Both bootstrap .venv themselves.
# `make test` lints first (ruff, mypy: `make lint` alone), then runs pytest; `make fmt` fixes style.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_PATHS := service tests bench alembic

.PHONY: run test lint fmt install bench clean openapi

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

test: lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/vc_core.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

openapi: $(STAMP)
	$(BIN)/skillcred openapi > openapi.yaml
