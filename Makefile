# Two entry points for newcomers (see README): `make serve` and `make test`.
# Both create a local virtualenv in .venv and install what they need into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/lib/chromium/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup serve serve-desktop site test browser bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	# torchvision's model definitions for the import tests; --no-deps keeps the pinned torch
	$(PY) -m pip install --quiet --no-deps torchvision==0.28.0
	touch $@

setup: $(VENV)/.installed

# The main job: build the offline Pyodide site and serve it on 127.0.0.1.
serve: setup
	$(PY) -m pyodide_build --out site
	@echo "Serving the offline site on http://$(HOST):$(PORT)/ (Ctrl+C stops)"
	$(PY) -m http.server $(PORT) --bind $(HOST) --directory site

# The same app on a desktop Panel server (CPython; editing without Pyodide).
serve-desktop: setup
	$(PY) -m explorer serve --port 5006

browser:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

test: setup browser
	$(PY) -m pytest

bench: setup browser
	$(PY) bench/forward.py
	$(PY) bench/ui.py
	$(PY) bench/features.py
	$(PY) bench/site_load.py
	$(PY) bench/importer.py
