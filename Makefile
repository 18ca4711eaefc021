# Homesafe: `make run` starts the whole system on its embedded defaults; `make test` runs the suite
# against real Mosquitto, InfluxDB and PostgreSQL (installed and started by scripts/ensure-services.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.homesafe-installed
# Two test workers (pytest-xdist), a file each at a time: the suite is mostly waiting on servers.
PYTEST_ARGS ?= -n 2 --dist loadfile

.NOTPARALLEL:
.PHONY: run test services venv lint

run: venv
	exec $(BIN)/homesafe run

# Lint first: ruff's rules, the one formatting, and the types (mypy) before any test runs.
test: services venv lint
	$(BIN)/pytest $(PYTEST_ARGS)

services:
	scripts/ensure-services.sh

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy registry ingest detectors compliance repairs equity interop notify api firmware_sim homesafe
