"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import storage.login_links  # noqa: F401  (registers its table, as migrations/env.py does)
from storage import migrate
from storage.database import Database
from storage.models import Plan
from storage.plan_file import PlanSpec, read_plan_file
from storage.plan_loader import load_plan

REPO = Path(__file__).resolve().parents[1]
SEED_PLAN_FILE = REPO / "plans" / "thai-binh-2021-40-kh-ubnd.yaml"
# The seed document, kept with the plan it is encoded in (a copy of ../shared/seed/…).
SEED_DOCUMENT = REPO / "plans" / "sources" / "thai-binh-2021-40-kh-ubnd.txt"
SHARED_SEED_DOCUMENT = REPO.parent / "shared" / "seed" / "000_1579661068ea889a.txt"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
# As the command line does (bot.cli.main): python-telegram-bot's timedelta durations, or it warns
# on every RetryAfter it builds, and pytest turns warnings into errors (filterwarnings=error).
os.environ.setdefault("PTB_TIMEDELTA", "true")


def _backends() -> list[object]:
    backends: list[object] = ["sqlite"]
    backends.append(
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL)"
                ),
            ],
        )
    )
    return backends


def postgres_schema_database(url: str) -> tuple[Database, str]:
    """A Database whose search path is a fresh schema, so test runs never collide."""
    schema = f"nhacviec_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(Database(url).url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return Database(url, schema=schema), schema


def drop_postgres_schema(url: str, schema: str) -> None:
    admin = sa.create_engine(Database(url).url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=_backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'nhacviec.db'}")
        migrate.upgrade(db)
        yield db
        db.dispose()
        return
    assert TEST_DATABASE_URL is not None
    db, schema = postgres_schema_database(TEST_DATABASE_URL)
    try:
        migrate.upgrade(db)
        yield db
    finally:
        db.dispose()
        drop_postgres_schema(TEST_DATABASE_URL, schema)


@pytest.fixture(scope="session")
def seed_spec() -> PlanSpec:
    return read_plan_file(SEED_PLAN_FILE)


@pytest.fixture
def seed_plan(database: Database, seed_spec: PlanSpec) -> Plan:
    """The seed plan loaded into the database."""
    return database.run_sync(
        load_plan,
        seed_spec,
        source_file=str(SEED_PLAN_FILE),
        now=datetime(2021, 3, 8, 1, 0, tzinfo=UTC),
    )
