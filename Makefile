# nhacviec — `make run` starts the bot, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install run test lint reformat typecheck unit bench schedule check-plan docs-examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Migrate SQLite at ./data/, load the plan, start the bot (Telegram if TELEGRAM_BOT_TOKEN is set,
## otherwise a console chat in this terminal).
run: install
	$(BIN)/nhacviec run

## Lint, type-check and run every test (PostgreSQL tests too when TEST_DATABASE_URL is set).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

reformat: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit

## Speed targets (not part of `make test`: timings depend on the machine).
bench: install
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python -m benchmarks.bench_crash

## The reminder calendar of the plan: `make schedule ARGS="--all"`.
schedule: install
	$(BIN)/nhacviec schedule $(ARGS)

check-plan: install
	$(BIN)/nhacviec check-plan plans/*.yaml

## The pictures in docs/ (charts, the report's first page), from the seed plan and test reports.
docs-examples: install
	$(BIN)/python -m tests.fixtures.docs_examples docs

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
