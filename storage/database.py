"""The engine and sessions.

SQLite is the default (WAL, busy timeout and foreign keys switched on for every connection);
PostgreSQL is used when the URL says so. Database work runs in worker threads through
:meth:`Database.run`, so the event loop never waits on a query.

On SQLite a transaction begins at its first statement, reads included (SQLAlchemy's recipe for
pysqlite, "Serializable isolation / Savepoints / Transactional DDL": the driver's own BEGIN,
which it emits only before a write, is switched off and SQLAlchemy's "begin" event emits it).
A check-then-write sequence is then atomic: SQLite refuses the write of a transaction whose
snapshot another one has changed since (SQLITE_BUSY_SNAPSHOT), and :meth:`Database.run_sync`
runs such a transaction again, so it sees what the other one wrote — this time as BEGIN
IMMEDIATE, holding the write lock from its first statement, so it cannot lose again however
many others write meanwhile (readers never wait: the first attempt only reads under a plain
BEGIN).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_BUSY = 5  # the primary result code; SQLITE_BUSY_SNAPSHOT (517) is one of its kinds
CONFLICT_ATTEMPTS = 4  # how often a transaction that lost a write race on SQLite is run
BEGIN_OPTION = "nhacviec_sqlite_begin"  # execution option: the statement that opens it


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
    dbapi_connection.isolation_level = None  # no BEGIN of the driver's own: see _begin_sqlite
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    """Open the transaction at its first statement, as SQLAlchemy's pysqlite recipe does."""
    connection.exec_driver_sql(connection.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


def lost_write_race(error: BaseException) -> bool:
    """True for SQLite's "database is locked": another transaction wrote first (or held the
    write lock longer than the busy timeout); running the transaction again is the remedy."""
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    code = getattr(cause, "sqlite_errorcode", None)
    return isinstance(cause, sqlite3.OperationalError) and (
        code is not None and code & 0xFF == SQLITE_BUSY
    )


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
        sa.event.listen(engine, "begin", _begin_sqlite)
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
        self._writer: ThreadPoolExecutor | None = None  # SQLite's writing thread: run_writing

    @functools.cached_property
    def is_sqlite(self) -> bool:  # asked at every dialog turn: parsing the URL took as long
        return is_sqlite(self.url)

    @contextmanager
    def session(self, *, writing: bool = False) -> Iterator[Session]:
        """A session that commits when the block ends without error, else rolls back.
        ``writing``: on SQLite, take the write lock at once (BEGIN IMMEDIATE)."""
        with Session(self.engine, expire_on_commit=False) as session:
            if writing and self.is_sqlite:
                session.connection(execution_options={BEGIN_OPTION: "BEGIN IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def run_sync(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Call ``fn(session, ...)`` in one transaction.

        On SQLite, a transaction that lost a write race to another is run again from the start
        holding the write lock (see the module's docstring), so ``fn`` must do nothing but
        database work.
        """
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self.session(writing=attempt > 1) as session:
                    return fn(session, *args, **kwargs)
            except sa.exc.OperationalError as error:
                if not lost_write_race(error) or attempt == CONFLICT_ATTEMPTS:
                    raise
                log.debug("SQLite write race lost (attempt %d); running it again", attempt)
                time.sleep(random.uniform(0, 0.01))  # out of step with whoever else lost
        raise AssertionError("unreachable")  # pragma: no cover

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Call ``fn(session, ...)`` in one transaction, in a worker thread."""
        return await asyncio.to_thread(functools.partial(self.run_sync, fn, *args, **kwargs))

    async def run_writing(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """:meth:`run` for a transaction that writes from its first statement (a dialog turn).

        On SQLite one thread runs them all, one after the other: SQLite lets one transaction
        write at a time, so others at once would only wait in its busy handler (asleep 1 to
        100 ms between tries, while the file is free) and pass the GIL to and fro between
        threads. On PostgreSQL they run side by side."""
        if not self.is_sqlite:
            return await self.run(fn, *args, **kwargs)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        call = functools.partial(self.run_sync, fn, *args, **kwargs)
        context = contextvars.copy_context()  # as asyncio.to_thread does
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, context.run, call)

    def dispose(self) -> None:
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None
        self.engine.dispose()
