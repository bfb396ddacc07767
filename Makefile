# `make run` sets everything up and serves the API; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := service.app

.PHONY: install run migrate seed test lint format openapi contract bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/flask migrate

seed: migrate
	$(BIN)/flask seed

# Local development: loopback only and no authentication, unless the environment says
# otherwise (gunicorn says so at start).
run: seed
	HOST=$${HOST:-127.0.0.1} AUTH_MODE=$${AUTH_MODE:-none} \
	  $(BIN)/gunicorn --config python:service.gunicorn_conf service.wsgi:app

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the committed contract after changing the API.
openapi: $(STAMP)
	$(BIN)/flask openapi write openapi/openapi.json

# The contract from outside: spec validators, generated Python and TypeScript clients,
# Schemathesis against a live server (about 2 minutes; see contract/README.md).
contract: $(STAMP)
	bash .ci/contract.sh

# Performance at ~10,000 and ~1,000,000 annotations on SQLite and PostgreSQL (about
# 20 minutes); needs wrk (Debian's package) and PostgreSQL on 127.0.0.1:5432.
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache contract/.venv contract/typescript/node_modules
