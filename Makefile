# 民政业务管理系统 — the two commands: `make run` and `make test`.
SHELL := /bin/bash
# uv from PATH, else the one pip installs (`python3 -m uv` works wherever pip put it).
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := $(UV) run --frozen python
# Tests run on PostgreSQL (pytest-django creates test_minzheng next to this database), in one process per
# logical CPU (pytest-xdist: test_minzheng_gw0, test_minzheng_gw1 …; "auto" would count physical cores,
# one on a 2-vCPU machine whose vCPUs are a core's two threads); `make test PYTEST_WORKERS=0` runs them in one.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/minzheng
PYTEST_WORKERS ?= logical
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup test lint format bench uv

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

setup: uv
	$(UV) sync --frozen
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo

run: setup
	@echo "服务地址: http://$(HOST):$(PORT)/"
	$(PY) manage.py runserver $(HOST):$(PORT) --insecure

lint: uv
	$(UV) sync --frozen
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format:
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

test: lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(UV) run --frozen pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# City-scale benchmarks on PostgreSQL (benchmarks/README.md): a dedicated database (BENCH_DATABASE_URL,
# default minzheng_bench), the synthetic city generated once, results in benchmarks/results.md.
bench: uv
	$(UV) sync --frozen
	$(UV) run --frozen python benchmarks/run.py $(BENCH_ARGS)
