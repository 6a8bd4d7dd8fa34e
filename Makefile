# Vitrine: `make run` serves the product, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The suite runs in two processes (pytest-xdist), each with embedded servers of its own and whole
# files at a time; against a DATABASE_URL or REDIS_URL (servers the processes would share), in one.
PYTEST_WORKERS ?= $(if $(DATABASE_URL)$(REDIS_URL),0,2)
# The slowest tests are named at the end of every run, where a creeping suite shows first.
PYTEST_ARGS ?= --durations=30
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: run test test-fast bench chromium clean-data

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Vitrine needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# make run is development (the demo merchant, a secret kept in var/), with a DATABASE_URL too;
# VITRINE_ENV=production make run for a deployment.
VITRINE_ENV ?= development

run: $(STAMP)
	VITRINE_ENV=$(VITRINE_ENV) $(BIN)/flask --app wsgi up

chromium: $(STAMP)
	@VENV=$(VENV) bash tests/e2e/chromium.sh

test: $(STAMP) chromium
	$(PYTEST) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PYTEST) -m "not e2e and not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.product_list
	$(BIN)/python -m bench.import_csv
	$(BIN)/python -m bench.product_editor
	$(BIN)/python -m bench.api_search
	$(BIN)/python -m bench.search_bench
	$(BIN)/python -m bench.storefront_bench
	$(BIN)/python -m bench.cart_bench
	$(BIN)/python -m bench.checkout_bench

clean-data:
	rm -rf var/
