# The two commands of the README: `make run` serves DeviceGraph with demo data,
# `make test` runs every check CI runs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FRONTEND_STAMP := frontend/node_modules/.installed
EXAMPLES_STAMP := examples/node/node_modules/.installed
SQLITE_CHECK_DB := var/alembic-check.db

.PHONY: run test install frontend frontend-test lint typecheck schema schema-check \
        migrations-check pytest examples bench clean

run: install frontend
	$(BIN)/devicegraph migrate
	$(BIN)/devicegraph seed-demo
	$(BIN)/devicegraph serve

test: install frontend lint typecheck schema-check migrations-check frontend-test pytest

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $(FRONTEND_STAMP)

frontend: $(FRONTEND_STAMP)
	cd frontend && npm run build

frontend-test: $(FRONTEND_STAMP)
	cd frontend && npm test

lint: install
	$(BIN)/ruff check app tests migrations bench examples
	$(BIN)/ruff format --check app tests migrations bench examples

typecheck: install
	$(BIN)/mypy

schema: install
	$(BIN)/devicegraph export-schema -o schema.graphql

schema-check: install
	$(BIN)/devicegraph export-schema --check -o schema.graphql

migrations-check: install
	mkdir -p var && rm -f $(SQLITE_CHECK_DB)
	DEVICEGRAPH_DATABASE_URL=sqlite+aiosqlite:///$(SQLITE_CHECK_DB) $(BIN)/alembic upgrade head
	DEVICEGRAPH_DATABASE_URL=sqlite+aiosqlite:///$(SQLITE_CHECK_DB) $(BIN)/alembic check
	rm -f $(SQLITE_CHECK_DB)

# The Node.js partner example runs in the tests (tests/examples).
$(EXAMPLES_STAMP): examples/node/package.json examples/node/package-lock.json
	cd examples/node && npm ci --no-audit --no-fund
	touch $(EXAMPLES_STAMP)

examples: $(EXAMPLES_STAMP)

# Two workers: most tests wait on servers, sockets and databases, so two cores run them in
# about 60% of the time; each worker has its own PostgreSQL database and SQLite files.
pytest: install examples
	$(BIN)/pytest -n 2 --durations=15

# Benchmarks on PostgreSQL (docs/benchmarks.md); not part of `make test`.
bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) frontend/node_modules examples/node/node_modules app/static var .mypy_cache .ruff_cache .pytest_cache
