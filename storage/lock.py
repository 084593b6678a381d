"""One running service per database.

The scheduler's job store must never be shared by two running schedulers, and the outbox must
have one sender. SQLite: an exclusive lock on a file beside the database. PostgreSQL: a
session-level advisory lock held on a dedicated connection.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.database import Database, sqlite_path

ADVISORY_LOCK_KEY = 0x6E68_6163  # "nhac"


class ServiceLockHeld(Exception):
    """Another nhacviec process is running against the same database."""


class ServiceLock:
    def __init__(self, *, fd: int | None = None, connection: Connection | None = None) -> None:
        self._fd = fd
        self._connection = connection

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._connection is not None:
            self._connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
            self._connection.close()
            self._connection = None


def acquire_service_lock(database: Database) -> ServiceLock:
    if database.is_sqlite:
        path = sqlite_path(database.url)
        if path is None:  # an in-memory database belongs to this process anyway
            return ServiceLock()
        lock_path = Path(f"{path}.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise ServiceLockHeld(str(lock_path)) from exc
        return ServiceLock(fd=fd)
    connection = database.engine.connect()
    acquired = connection.execute(
        sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
    ).scalar()
    connection.commit()
    if not acquired:
        connection.close()
        raise ServiceLockHeld("PostgreSQL advisory lock")
    return ServiceLock(connection=connection)
