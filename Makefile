# Every target installs what it needs; a fresh machine needs only Python 3.11, Node.js and apt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/readerstudy
REDIS_URL ?= redis://127.0.0.1:6379/0
RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672//

.PHONY: help setup demo test test-default test-services test-frontend bench frontend chromium clean

help:
	@echo "make demo   set up, import the demo CT, start a Celery worker and serve http://$(HOST):$(PORT)/"
	@echo "make test   set up and run every test (SQLite + filesystem broker, then PostgreSQL + Redis/RabbitMQ)"
	@echo "make bench  run the benchmarks and rewrite docs/benchmarks.md"

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; set PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: unpinned, pip would pull a multi-gigabyte CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/viewer.js: frontend/node_modules/.installed $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json
	cd frontend && npm run build

frontend: frontend/dist/viewer.js

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

setup: $(VENV)/.installed frontend chromium

demo: setup
	$(PY) manage.py migrate --noinput
	bash scripts/demo.sh "$(HOST)" "$(PORT)"

test: setup test-frontend test-default test-services

test-frontend: frontend/node_modules/.installed
	cd frontend && npm test

# Defaults: SQLite, kombu's filesystem broker, the browser test in chromium.
test-default:
	$(PY) -m pytest

# The same Django tests against the real servers; a server that is down fails these tests.
test-services:
	DATABASE_URL=$(POSTGRES_URL) CELERY_BROKER_URL=$(REDIS_URL) READERSTUDY_REQUIRE_SERVICES=1 \
		$(PY) -m pytest -m "not e2e" --ignore=tests/ml --ignore=tests/readerstats
	DATABASE_URL=$(POSTGRES_URL) CELERY_BROKER_URL=$(RABBITMQ_URL) READERSTUDY_REQUIRE_SERVICES=1 \
		$(PY) -m pytest -m worker --ignore=tests/ml --ignore=tests/readerstats

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf var frontend/dist
