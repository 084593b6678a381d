# nhacviec — `make run` starts the bot, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install run test lint reformat typecheck unit bench schedule check-plan docs-examples docs-screenshots clean

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
	$(BIN)/python -m pytest -n auto

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

## Speed targets (not part of `make test`: timings depend on the machine): every
## benchmarks/bench_*.py, each printing its figures beside their targets as ratios; the exit
## status is 1 when any target is missed. The core and dashboard benchmarks run at 200 and
## 10,000 organisations × 100 status updates (BENCH="--sizes 200" for the small one only;
## BENCH_DATABASE_URL=postgresql://… runs them on PostgreSQL, in a schema of their own). The
## fan-out benchmark sends 12,000 messages at 30 per second (about seven minutes);
## FANOUT="--sizes 2000" runs the small one only.
bench: install
	@status=0; for file in benchmarks/bench_*.py; do \
		name=$$(basename $$file .py); \
		case $$name in \
			bench_core|bench_dashboard) args="$(BENCH)";; \
			bench_fanout) args="$(FANOUT)";; \
			*) args="";; \
		esac; \
		echo "== $$name $$args"; \
		$(BIN)/python -m benchmarks.$$name $$args || status=1; \
	done; exit $$status

## The reminder calendar of the plan: `make schedule ARGS="--all"`.
schedule: install
	$(BIN)/nhacviec schedule $(ARGS)

check-plan: install
	$(BIN)/nhacviec check-plan plans/*.yaml

## The pictures in docs/ (charts, the report's first page), from the seed plan and test reports.
docs-examples: install
	$(BIN)/python -m tests.fixtures.docs_examples docs

## Screenshots of the dashboard in docs/ (needs Debian's chromium, which .ci/run installs).
docs-screenshots: install
	DASHBOARD_SCREENSHOTS=docs $(BIN)/python -m pytest tests/e2e/test_dashboard_browser.py \
		-k "sqlite and (overview or agency_page)" -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
