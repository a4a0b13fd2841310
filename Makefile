# Two commands do everything on a fresh machine with python3 (3.11+), make and apt:
#   make run    set up, then serve the app, a Celery worker with beat and the sandbox
#   make test   set up, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
# Test processes (pytest-xdist; 0 = none). Tests that start Celery workers or pace across
# processes run one after another in one of them (tests/conftest.py); every process has its
# own database, ports and folders.
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8765

.PHONY: run test bench screenshot lint format venv chromium clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

chromium:
	@scripts/ensure-chromium.sh

# The sandbox must be on the connectors' URL allow-list, whatever port it runs on.
run: export CONNECTOR_URL_ALLOW_LIST ?= http://127.0.0.1:$(SANDBOX_PORT)
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo --url http://$(HOST):$(PORT) --sandbox-url http://127.0.0.1:$(SANDBOX_PORT)
	DEBUG=$${DEBUG:-1} SITE_URL=http://$(HOST):$(PORT) WEB_HOST=$(HOST) WEB_PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
		$(BIN)/honcho --procfile Procfile.dev start

test: venv chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The README's picture of the designer (docs/designer.png), from the scene its browser test checks.
screenshot: venv chromium
	DESIGNER_SCREENSHOT=docs/designer.png $(BIN)/pytest -q tests/browser/test_designer_screenshot.py

bench: venv
	$(BIN)/python -m benchmarks

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
