"""The engine and sessions.

SQLite is the default (WAL, busy timeout and foreign keys switched on for every connection);
PostgreSQL is used when the URL says so. Database work runs in worker threads through
:meth:`Database.run`, so the event loop never waits on a query.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

P = ParamSpec("P")
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_database_engine(url: str, *, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` (PostgreSQL only) sets the search path, for tests."""
    url = normalise_url(url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        sa.event.listen(engine, "connect", _configure_sqlite)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class Database:
    """One engine and the way to use it: sync sessions in threads, awaited from the loop."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = normalise_url(url)
        self.schema = schema
        self.engine = create_database_engine(self.url, schema=schema)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends without error, else rolls back."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def run_sync(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Call ``fn(session, ...)`` in one transaction."""
        with self.session() as session:
            return fn(session, *args, **kwargs)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Call ``fn(session, ...)`` in one transaction, in a worker thread."""
        return await asyncio.to_thread(functools.partial(self.run_sync, fn, *args, **kwargs))

    def dispose(self) -> None:
        self.engine.dispose()
