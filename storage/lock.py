"""One running service per database.

The scheduler's job store must never be shared by two running schedulers, and the outbox must
have one sender.

**SQLite** (one machine, no standby): an exclusive ``flock`` on the database file itself,
through a descriptor of its own. The kernel keys that lock by the file's inode, so every name of
the database — a symlink, a hard link, another relative path, a bind mount, another container
sharing the volume — meets the same lock. (A lock file named after the path, as before, let a
symlink or a hard link start a second service and run ``migrate`` under a live one; a lock file
named after the inode needs a directory every instance agrees on, which ``/tmp`` is not under
systemd's PrivateTmp or in containers.) SQLite itself locks with POSIX record locks (fcntl),
which Linux keeps apart from flock; but closing *any* descriptor of the file drops the process's
POSIX locks (SQLite's "How To Corrupt An SQLite Database File", 2.2), so the descriptor is
opened before the service's first connection and closed only once the service has stopped.

**PostgreSQL**: a lease with an epoch that fences every write, and hot standby
(:mod:`storage.lease`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from storage.database import Database, sqlite_path
from storage.lease import DEFAULT_LEASE, Holder, Leadership, PostgresLease, one_line

log = logging.getLogger(__name__)


class ServiceLockHeld(Exception):
    """Another nhacviec process runs against the same database: ``where`` names the database
    file (SQLite) or the instance that leads (PostgreSQL)."""

    def __init__(self, where: str, *, holder: Holder | None = None) -> None:
        super().__init__(where)
        self.where = where
        self.holder = holder


class ServiceLock(Protocol):
    """What a running service holds; :meth:`release` never raises."""

    leadership: Leadership | None  # PostgreSQL: the term whose epoch fences writes

    def confirm(self) -> None:
        """After migrating (a lease taken before its table existed is written then)."""

    def on_lost(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` if this instance stops leading (never, on SQLite)."""

    def release(self) -> None: ...


class FileLock:
    """An exclusive flock on the SQLite database file (or nothing, for an in-memory one)."""

    leadership: Leadership | None = None

    def __init__(self, fd: int | None = None) -> None:
        self._fd = fd

    def confirm(self) -> None:
        pass

    def on_lost(self, listener: Callable[[str], None]) -> None:
        pass  # the kernel holds a file lock until the process ends

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the last descriptor of this open file


def lock_sqlite_file(path: Path) -> FileLock:
    """Lock the database file behind ``path`` (created empty if missing, as SQLite would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # follows symlinks; not inherited
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise ServiceLockHeld(str(path.resolve())) from exc
    return FileLock(fd)


def acquire_service_lock(database: Database, *, lease: timedelta = DEFAULT_LEASE) -> ServiceLock:
    """Lock ``database`` for this process now, or raise :class:`ServiceLockHeld`."""
    if database.is_sqlite:
        path = sqlite_path(database.url)
        # an in-memory database belongs to this process anyway
        return FileLock() if path is None else lock_sqlite_file(path)
    taker = PostgresLease(database.engine, length=lease)
    holder = taker.try_take()
    if holder is not None:
        taker.release()
        raise ServiceLockHeld(holder.name or "PostgreSQL", holder=holder)
    return taker


def wait_for_service_lock(
    database: Database,
    *,
    cancelled: threading.Event,
    standing_by: Callable[[ServiceLockHeld], None],
    lease: timedelta = DEFAULT_LEASE,
) -> ServiceLock | None:
    """Lead ``database``: at once, or on PostgreSQL after standing by until the leader is gone
    (its lease expired or its lock session ended). ``standing_by`` hears who leads, each time
    that changes. None when ``cancelled`` is set first. SQLite has no standby: one machine,
    one service; a second one gets :class:`ServiceLockHeld`."""
    if database.is_sqlite:
        return acquire_service_lock(database)
    taker = PostgresLease(database.engine, length=lease)
    poll = min(1.0, taker.renew_every)
    told: str | None = None
    while True:
        try:
            holder = taker.try_take()
        except sa.exc.DBAPIError as exc:
            if told != "":  # once per outage
                log.warning("PostgreSQL chưa trả lời khi chờ dự phòng; thử lại: %s", one_line(exc))
            holder, told = Holder(None, None), ""
        if holder is None:
            return taker
        if holder.name is not None and holder.name != told:
            told = holder.name
            standing_by(ServiceLockHeld(holder.name, holder=holder))
        if cancelled.wait(poll):
            taker.release()
            return None
