"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import migrate
from storage.database import Database
from storage.models import Plan
from storage.plan_file import PlanSpec, PlanStatus, read_plan_file
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


def active_seed_spec() -> PlanSpec:
    """The seed plan as it ran in 2021: active (the shipped file says it has ended)."""
    return read_plan_file(SEED_PLAN_FILE).model_copy(update={"status": PlanStatus.ACTIVE})


def active_seed_file(directory: Path) -> Path:
    """A copy of the seed plan file marked active, in ``directory`` (for a whole service)."""
    text = SEED_PLAN_FILE.read_text(encoding="utf-8").replace("status: ended", "status: active")
    target = directory / SEED_PLAN_FILE.name
    target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def seed_spec() -> PlanSpec:
    return active_seed_spec()


@pytest.fixture
def seed_plan(database: Database, seed_spec: PlanSpec) -> Plan:
    """The seed plan loaded into the database."""
    return database.run_sync(
        load_plan,
        seed_spec,
        source_file=str(SEED_PLAN_FILE),
        now=datetime(2021, 3, 8, 1, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to the head, for tests to copy (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("migrated") / "nhacviec.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture
def sqlite_database(tmp_path: Path, migrated_sqlite_file: Path) -> Iterator[Database]:
    """A migrated, empty SQLite database of this test's own (a copy of the migrated file)."""
    path = tmp_path / "nhacviec.db"
    shutil.copyfile(migrated_sqlite_file, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()
