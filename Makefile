# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# `make run` needs only the runtime dependencies; a development install holds them too.
RUNTIME := $(VENV)/.installed-runtime
HOST ?= 127.0.0.1
PORT ?= 8000
# One worker: the in-process rate limits then count every request of the machine.
WORKERS ?= 1

.PHONY: run test install lint lint-openapi typecheck test-sqlite test-postgres openapi clients clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Vocation needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(INSTALLED)

$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $(RUNTIME)

install: $(INSTALLED)

# Allowed hosts: localhost unless the environment names others (`make run HOST=0.0.0.0`
# reached by the machine's address needs VOCATION_ALLOWED_HOSTS=localhost,192.168.1.20);
# the Production section of the README says what to set on a server.
run: $(if $(wildcard $(INSTALLED)),$(INSTALLED),$(RUNTIME))
	$(BIN)/vocation migrate
	$(BIN)/vocation demo --if-empty
	VOCATION_ALLOWED_HOSTS="$${VOCATION_ALLOWED_HOSTS:-localhost,127.0.0.1}" \
		$(BIN)/vocation serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Redocly's lint of the committed spec (redocly.yaml says which rules). It needs Node and
# `npm ci`; without them it says so in one line, as the PostgreSQL suite does.
lint-openapi:
	@if [ -x node_modules/.bin/redocly ]; then \
		npx --no-install redocly lint openapi/openapi.json; \
	else \
		echo "OpenAPI lint skipped: run \`npm ci\` (Node.js 20.19 or newer) to install Redocly"; \
	fi

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	VOCATION_TEST_DATABASE=sqlite $(BIN)/pytest -q

test-postgres: install
	@if $(BIN)/python -m tests.postgres_available; then \
		VOCATION_TEST_DATABASE=postgres $(BIN)/pytest -q; \
	else \
		echo "PostgreSQL tests skipped: no server answers at $${VOCATION_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"; \
	fi

# Both engines' suites run side by side (one per core); --output-sync prints each one's
# output whole when it finishes, so the two never interleave.
test: lint lint-openapi typecheck
	@$(MAKE) --no-print-directory --jobs=2 --output-sync=target test-sqlite test-postgres

openapi: install
	$(BIN)/vocation openapi

# Generated from the committed spec, never committed: clients/README.md says why.
clients: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/openapi-python-client generate \
		--path openapi/openapi.json --output-path clients/python/vocation-client --overwrite
	@if [ -x node_modules/.bin/tsc ]; then \
		node clients/typescript/generate.mjs openapi/openapi.json clients/typescript/vocation.d.ts \
		&& echo "clients/typescript/vocation.d.ts written"; \
	else \
		echo "TypeScript types skipped: run \`npm ci\` (Node.js 20.19 or newer)"; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
