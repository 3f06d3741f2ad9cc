# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
MANAGE := cd example_project && ../$(BIN)/python manage.py

.PHONY: install demo serve test bench clean

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

test: install
	$(BIN)/python -m pytest --conformance-table docs/conformance.md

clean:
	rm -rf $(VENV) .pytest_cache example_project/db.sqlite3

# Benchmarks (not part of `make test`): writes docs/performance.md and docs/performance.png.
BENCH_DEPS = 'drf-extensions==0.8.0' 'matplotlib>=3.8'

bench: install
	$(BIN)/python -m pip install --quiet $(BENCH_DEPS)
	@command -v wrk >/dev/null && command -v redis-server >/dev/null || $(APT_INSTALL) wrk redis-server
	$(BIN)/python -m tests.benchmarks.run
