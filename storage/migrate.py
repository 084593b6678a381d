"""Run the Alembic migrations from code (``nhacviec migrate`` and start-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema of ``database`` up to ``revision``."""
    _run(database, lambda config: command.upgrade(config, revision))


def downgrade(database: Database, revision: str) -> None:
    _run(database, lambda config: command.downgrade(config, revision))


def _run(database: Database, migrate: Callable[[Config], None]) -> None:
    """Run migrations in one transaction.

    On SQLite, foreign keys are switched off meanwhile (the recipe of SQLite's ALTER TABLE
    documentation and Alembic's batch mode: a table rebuilt under a foreign key cannot be dropped)
    and checked once the migrations are done, before the commit.
    """
    config = alembic_config(database)
    with database.engine.connect() as connection:
        _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                migrate(config)
                if database.is_sqlite:
                    _check_foreign_keys(connection)
        finally:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Outside any transaction (SQLite ignores the pragma inside one): on the driver's own
    connection, so that SQLAlchemy does not begin one first."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"migration left rows pointing at missing parents: {problems[:5]}")
