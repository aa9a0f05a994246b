# Two commands for a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
PYTEST_ARGS ?=
export SOAPGW_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/soapgw.db

.PHONY: run test test-smoke wsdl bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `make run` needs the gateway only; `make test` adds the test tools (pytest, playwright ...).
# -qq: setuptools prints an "Editable installation" notice on every editable install.
$(VENV)/.installed-run: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -qq -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/pip install -qq -e '.[test]'
	touch $@

run: $(VENV)/.installed-run
	mkdir -p instance
	$(BIN)/soapgw db upgrade
	$(BIN)/soapgw serve --host $(HOST) --port $(PORT)

# Debian's Chromium for the web UI browser tests (they skip without it), when root and missing.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: the browser tests will skip" >&2; \
	fi

test: $(VENV)/.installed browser
	# node-soap station for the interoperability tests (they skip without node/npm)
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/interop --no-audit --no-fund --silent; fi
	# the layering contracts of setup.cfg [importlinter]
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The subset CI runs under every other supported Python.
test-smoke: $(VENV)/.installed
	$(BIN)/python -m pytest -m smoke $(PYTEST_ARGS)

wsdl: $(VENV)/.installed
	$(BIN)/soapgw wsdl export wsdl/

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/inbound.py
	$(BIN)/python benchmarks/outbound.py

clean:
	rm -rf $(VENV) .venv313 *.egg-info .pytest_cache
