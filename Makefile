# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format schema bench clean browser-deps pgbouncer-deps bench-deps drills db-stop ide schema-lint-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# GraphiQL's files from the npm registry, as web_ide/package-lock.json pins them; without
# npm, /graphql says how to get them and the API runs as usual.
ide:
	bash scripts/npm-install.sh --optional web_ide

run: $(VENV)/.installed ide
	$(BIN)/jinlin migrate
	$(BIN)/jinlin seed-demo
	$(BIN)/python scripts/demo_address.py http://127.0.0.1:8000
	$(BIN)/jinlin serve --host 127.0.0.1 --port 8000

browser-deps: $(VENV)/.installed-test
	bash scripts/browser-deps.sh

pgbouncer-deps:
	bash scripts/pgbouncer-deps.sh

# graphql-schema-linter, as tests/schema_lint/package-lock.json pins it. Without npm the
# lint test says so (and fails under CI, where Node and npm are always installed).
schema-lint-deps:
	bash scripts/npm-install.sh --optional tests/schema_lint

test: $(VENV)/.installed-test browser-deps pgbouncer-deps schema-lint-deps
	$(BIN)/python -m pytest --durations=25

drills: $(VENV)/.installed-test pgbouncer-deps
	$(BIN)/python -m pytest -m drill -s tests/ops

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(VENV)/.installed
	$(BIN)/jinlin export-schema > schema.graphql
	$(BIN)/python ../shared/contract/check.py schema.graphql

bench-deps:
	bash scripts/bench-deps.sh

bench: $(VENV)/.installed-test bench-deps
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)  # e.g. make bench BENCH_ARGS=--quick

db-stop:
	$(BIN)/jinlin db stop

clean:
	-[ -x $(BIN)/jinlin ] && $(BIN)/jinlin db stop
	rm -rf $(VENV) data .pytest_cache
