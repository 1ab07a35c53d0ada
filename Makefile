# CreditOKR: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest test-tools install migrate demo worker clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || scripts/make-venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

migrate: install
	$(BIN)/creditokr migrate --no-input

demo: migrate
	$(BIN)/creditokr demo_workspace

run: demo
	$(BIN)/creditokr collectstatic --no-input --verbosity 0
	@echo
	@echo "  CreditOKR is starting on http://$(HOST):$(PORT)/"
	@$(BIN)/creditokr demo_workspace --sign-in-help
	@echo
	@export SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	$(BIN)/creditokr worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	$(BIN)/uvicorn creditokr.asgi:application --host $(HOST) --port $(PORT) --lifespan off --no-access-log

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy creditokr tests

test-tools:
	@scripts/test-tools

pytest: install test-tools
	$(BIN)/pytest -n auto

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache

worker: migrate
	$(BIN)/creditokr worker
