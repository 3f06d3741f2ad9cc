# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
MANAGE := cd example_project && ../$(BIN)/python manage.py

.PHONY: install demo serve test clean

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
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache example_project/db.sqlite3
