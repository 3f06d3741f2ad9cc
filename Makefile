# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
MANAGE := cd example_project && ../$(BIN)/python manage.py

.PHONY: install prereqs demo test lint docs reliability bench clean

# Debian packages some targets need; as root (CI) directly, else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo "Serving the example project on http://$(HOST):$(PORT)/products/ (Ctrl-C to stop)"
	cd example_project && ../$(BIN)/gunicorn example_project.wsgi:application \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

# Debian packages the suite runs for real (redis-server for the live tests; chromium and
# varnish for tests/e2e; postgresql for the PostgreSQL pass, whose server binaries live in
# /usr/lib/postgresql/<major>/bin, off PATH). varnishd lives in /usr/sbin, which a non-root
# PATH may lack.
# Braces around $(APT_INSTALL): it is `update && install`, and `a || b && c` would always install.
prereqs:
	@command -v redis-server >/dev/null || { $(APT_INSTALL) redis-server; }
	@command -v chromium >/dev/null || { $(APT_INSTALL) chromium; }
	@command -v varnishd >/dev/null || test -x /usr/sbin/varnishd || { $(APT_INSTALL) varnish; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(APT_INSTALL) postgresql; }

# Two passes. SQLite: the whole suite, and it writes the conformance table. PostgreSQL (a
# throwaway cluster the suite starts itself, tests/postgres.py): row locks, READ COMMITTED
# and the aggregate SQL differ there, so everything that touches the database runs again
# (unit, conformance, DRF, stateful, and tests/live: multi-worker and concurrency runs).
# tests/e2e is left out of that pass: it exercises HTTP peers (Chromium, Varnish, REDbot,
# caching clients) against the same responses, not the database.
test: install prereqs
	$(BIN)/python -m pytest --conformance-table docs/conformance.md
	HTTPCACHE_TEST_DB=postgres $(BIN)/python -m pytest --ignore=tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=.:example_project $(BIN)/mypy

docs: install
	$(BIN)/mkdocs build --strict --site-dir site

# Full-size reliability runs (10,000+ stateful steps per version mode, a minute of
# load, longer concurrency and outage runs); prints one summary table.
reliability: install prereqs
	HTTPCACHE_STATEFUL_EXAMPLES=110 HTTPCACHE_STATEFUL_STEPS=100 HTTPCACHE_LIVE_SCALE=8 \
	HTTPCACHE_LOAD_SECONDS=60 $(BIN)/python -m pytest --reliability -p no:cacheprovider \
		tests/test_stateful.py tests/live/test_reliability.py

clean:
	rm -rf $(VENV) .pytest_cache example_project/db.sqlite3

# Benchmarks (not part of `make test`): writes docs/performance.md and docs/performance.png.
BENCH_DEPS = 'drf-extensions==0.8.0' 'matplotlib>=3.8'

bench: install prereqs
	$(BIN)/python -m pip install --quiet $(BENCH_DEPS)
	@command -v wrk >/dev/null || { $(APT_INSTALL) wrk; }
	$(BIN)/python -m tests.benchmarks.run
