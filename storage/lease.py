"""Leadership on PostgreSQL: a lease renewed by the leader, an epoch that fences every write.

An advisory lock alone does not hold: it belongs to one session, and when that connection drops
(a restart, a failover, an idle timeout, ``pg_terminate_backend``) it is gone without notice,
while the process runs on. So leadership is a row of ``service_leases`` — the holder, an
*epoch* that grows by one at every takeover, when the lease expires (the database's clock) and
the backend pid of the holder's lock session — and three rules:

- **The leader renews** the lease every quarter of its length, on its dedicated lock connection,
  in a transaction of its own, where it also holds the session advisory lock. A renewal that
  finds another epoch, or a lock connection that is gone, ends leadership at once; so does a
  renewal that keeps failing until the lease would have run out on the leader's own monotonic
  clock.
- **A standby takes over** when the lease has expired, or when it gets the advisory lock that
  the holder's lock session held (that session is gone: the process died, its connection was
  dropped). Taking over raises the epoch, under the row's lock.
- **Writes are fenced**: every write of the outbox sender and of the scheduler calls
  :func:`fenced` in its own transaction, which reads the epoch ``FOR SHARE``. A takeover waits
  for the writes in flight (the row lock), and any write after it sees the new epoch and
  raises :class:`LeadershipLost`, so an instance that lost leadership can at most finish the one
  message it was sending.

This module imports nothing of ours; the command line and the composition root drive it through
:mod:`storage.lock` (hot standby: :mod:`bot.leadership`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

log = logging.getLogger(__name__)

LEASE_NAME = "service"
DEFAULT_LEASE = timedelta(seconds=8)
EARLIER_RELEASE = "của bản phát hành trước"  # who holds the earlier releases' lock
# The session's engine carries this instance's Leadership as an execution option, so that
# fenced(session) finds it whatever code opened the session.
EXECUTION_OPTION = "nhacviec_leadership"
# The advisory lock's two keys: "nhac", and the schema's CRC-32, so that two deployments (or two
# test runs) in separate schemas of one database do not lock each other out.
LOCK_CLASS = 0x6E68_6163
# The one key the releases before the lease locked with: taken too while upgrading a database
# that has no lease table yet, so that it is never migrated under a service of such a release.
LEGACY_KEY = 0x6E68_6163

_SCHEMA = sa.text("SELECT current_schema()")
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(CAST(:class AS int), CAST(:object AS int))")
_TRY_LEGACY = sa.text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))")
_UNLOCK_LEGACY = sa.text("SELECT pg_advisory_unlock(CAST(:key AS bigint))")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(CAST(:class AS int), CAST(:object AS int))")
_HAS_TABLE = sa.text("SELECT to_regclass('service_leases') IS NOT NULL")
_READ = (
    "SELECT holder, epoch, expires_at, lock_pid, now() AS now FROM service_leases "
    "WHERE name = :name"
)
_FENCE = sa.text("SELECT epoch FROM service_leases WHERE name = :name FOR SHARE")
_LOCK_PID = "CASE WHEN :locked THEN pg_backend_pid() END"
_INSERT = sa.text(
    "INSERT INTO service_leases (name, holder, epoch, expires_at, lock_pid, taken_at) "
    f"VALUES (:name, :holder, 1, now() + :length, {_LOCK_PID}, now()) "
    "ON CONFLICT (name) DO NOTHING RETURNING epoch"
)
_TAKE = sa.text(
    "UPDATE service_leases SET holder = :holder, epoch = epoch + 1, "
    f"expires_at = now() + :length, lock_pid = {_LOCK_PID}, taken_at = now() "
    "WHERE name = :name RETURNING epoch"
)
_RENEW = sa.text(
    f"UPDATE service_leases SET expires_at = now() + :length, lock_pid = {_LOCK_PID} "
    "WHERE name = :name AND epoch = :epoch RETURNING epoch"
)
_RELEASE = sa.text(
    "UPDATE service_leases SET expires_at = now(), lock_pid = NULL "
    "WHERE name = :name AND epoch = :epoch"
)


class LeadershipLost(Exception):
    """This instance no longer leads: another one took over, or its lock session is gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LeaseRow:
    """The lease as read, with the database's clock at that moment."""

    holder: str
    epoch: int
    expires_at: datetime
    lock_pid: int | None
    now: datetime


@dataclass(frozen=True)
class Holder:
    """Who leads instead of us, for the operator: None where it is not known yet."""

    name: str | None
    until: datetime | None


def may_take(row: LeaseRow | None, *, have_lock: bool) -> bool:
    """Whether an instance may take the lease: nobody holds it, it has expired, or the holder's
    lock session is gone (this instance got the advisory lock that session held). A holder
    without the lock (it took over by expiry) keeps the lease until it expires."""
    if row is None or row.expires_at <= row.now:
        return True
    return have_lock and row.lock_pid is not None


def instance_name() -> str:
    """How the lease names this process: host, pid and a few random letters."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Leadership:
    """This instance's term as leader: its epoch, and whether it still holds it."""

    def __init__(self, *, holder: str, epoch: int | None, length: timedelta) -> None:
        self.holder = holder
        self.epoch = epoch  # None: taken before the lease table existed (written after migrating)
        self.length = length
        self._deadline = time.monotonic() + length.total_seconds()
        self._lost: str | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._guard = threading.Lock()

    @property
    def lost(self) -> str | None:
        """Why leadership ended, or None while it lasts."""
        return self._lost

    def renewed(self, started: float) -> None:
        """A renewal that began at ``started`` (monotonic) went through."""
        self._deadline = started + self.length.total_seconds()

    def expired_locally(self) -> bool:
        """The lease ran out on this process's own clock (no renewal got through in time)."""
        return time.monotonic() > self._deadline

    def lose(self, reason: str) -> None:
        """Leadership ended; every listener hears it once."""
        with self._guard:
            if self._lost is not None:
                return
            self._lost = reason
            listeners = list(self._listeners)
        for listener in listeners:
            listener(reason)

    def on_lost(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` when leadership ends (at once if it has)."""
        with self._guard:
            lost = self._lost
            if lost is None:
                self._listeners.append(listener)
                return
        listener(lost)

    def check(self) -> None:
        if self._lost is not None:
            raise LeadershipLost(self._lost)


_FENCED_IN = "nhacviec.fenced_in"  # session.info: the transaction already fenced


def fenced(session: Session) -> None:
    """Go on only while this instance leads: in the transaction of every write of the sender
    and the scheduler. Reads the epoch ``FOR SHARE``, so a takeover waits until this
    transaction ends, and a write after a takeover raises :class:`LeadershipLost`. Does nothing
    where no lease is held (SQLite, whose file lock cannot be lost; tests without a service)."""
    connection = session.connection()
    leadership = connection.get_execution_options().get(EXECUTION_OPTION)
    if not isinstance(leadership, Leadership):
        return
    leadership.check()
    transaction = session.get_transaction()
    if session.info.get(_FENCED_IN) is transaction:  # the share lock is held to its end
        return
    epoch = connection.execute(_FENCE, {"name": LEASE_NAME}).scalar()
    if epoch != leadership.epoch:
        reason = (
            f"một phiên bản khác đã tiếp quản (lượt {epoch}; "
            f"phiên bản này: lượt {leadership.epoch})"
        )
        leadership.lose(reason)
        raise LeadershipLost(reason)
    session.info[_FENCED_IN] = transaction


def _lock_keys(connection: Connection) -> dict[str, int]:
    schema = str(connection.execute(_SCHEMA).scalar() or "public")
    digest = zlib.crc32(schema.encode())
    return {"class": LOCK_CLASS, "object": digest - 2**32 if digest >= 2**31 else digest}


def _read(connection: Connection, *, for_update: bool) -> LeaseRow | None:
    statement = sa.text(_READ + (" FOR UPDATE" if for_update else ""))
    found = connection.execute(statement, {"name": LEASE_NAME}).first()
    return LeaseRow(*found) if found is not None else None


def one_line(exc: BaseException) -> str:
    reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    return " ".join(str(reason).split()) or type(reason).__name__


class PostgresLease:
    """The lease and the advisory lock, held on one dedicated connection of ``engine``.

    :meth:`try_take` once (a standby calls it every second); once taken, a thread renews the
    lease until :meth:`release`. One thread at a time uses the connection.
    """

    def __init__(self, engine: Engine, *, length: timedelta = DEFAULT_LEASE) -> None:
        self.engine = engine
        self.length = length
        self.holder = instance_name()
        self.leadership: Leadership | None = None
        self._connection: Connection | None = None
        self._keys: dict[str, int] = {}
        self._locked = False
        self._use = threading.Lock()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    @property
    def renew_every(self) -> float:
        return self.length.total_seconds() / 4

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.invalidated:
            self._close()
            self._connection = self.engine.connect()
            self._keys = _lock_keys(self._connection)
            self._connection.commit()
        return self._connection

    def try_take(self) -> Holder | None:
        """Take the lease if :func:`may_take` allows; None when taken, else who holds it."""
        with self._use:
            try:
                return self._take(self._connect())
            except sa.exc.DBAPIError:
                self._close()
                raise

    def _take(self, connection: Connection) -> Holder | None:
        if not self._locked:
            self._locked = bool(connection.execute(_TRY_LOCK, self._keys).scalar())
            connection.commit()
        if not connection.execute(_HAS_TABLE).scalar():  # a database older than the lease
            return self._take_before_the_lease(connection)
        row = _read(connection, for_update=False)
        if may_take(row, have_lock=self._locked):
            row = _read(connection, for_update=True)  # again, under the row's lock
            if may_take(row, have_lock=self._locked) and self._write_lease(
                connection, exists=row is not None
            ):
                return None
        connection.commit()
        if row is None:  # another instance wrote the first lease just now
            return Holder(None, None)
        if self._locked and row.lock_pid is None:  # leave the lock to a holder that lacks it
            connection.execute(_UNLOCK, self._keys)
            connection.commit()
            self._locked = False
        return Holder(row.holder, row.expires_at)

    def _take_before_the_lease(self, connection: Connection) -> Holder | None:
        """A database without the lease table (new, or of an earlier release): the advisory
        locks alone, this one's and the earlier releases' (held until :meth:`release`)."""
        legacy = self._locked and bool(
            connection.execute(_TRY_LEGACY, {"key": LEGACY_KEY}).scalar()
        )
        connection.commit()
        if not legacy:
            return Holder(EARLIER_RELEASE if self._locked else None, None)
        self.leadership = Leadership(holder=self.holder, epoch=None, length=self.length)
        return None

    def _write_lease(self, connection: Connection, *, exists: bool) -> bool:
        """Write this instance into the lease (a new epoch); False when another instance
        inserted the first row meanwhile."""
        values = {
            "name": LEASE_NAME,
            "holder": self.holder,
            "length": self.length,
            "locked": self._locked,
        }
        epoch = connection.execute(_TAKE if exists else _INSERT, values).scalar()
        connection.commit()
        if epoch is None:
            return False
        self.leadership = Leadership(holder=self.holder, epoch=int(epoch), length=self.length)
        self._start_keeping()
        return True

    def confirm(self) -> None:
        """After migrating: a lease taken before its table existed is written now, and the
        earlier releases' lock let go (other schemas of the database may need it)."""
        leadership = self.leadership
        if leadership is None or leadership.epoch is not None:
            return
        with self._use:
            connection = self._connect()
            row = _read(connection, for_update=True)
            if not self._write_lease(connection, exists=row is not None):
                raise LeadershipLost("một phiên bản khác đã tiếp quản khi đang nâng cấp")
            connection.execute(_UNLOCK_LEGACY, {"key": LEGACY_KEY})
            connection.commit()

    def _start_keeping(self) -> None:
        assert self.leadership is not None and self.leadership.epoch is not None
        self.engine.update_execution_options(**{EXECUTION_OPTION: self.leadership})
        self._stop.clear()
        self._keeper = threading.Thread(
            target=self._keep, args=(self.leadership,), name="lease-keeper", daemon=True
        )
        self._keeper.start()

    def _keep(self, leadership: Leadership) -> None:
        """Renew until released or lost (the keeper thread)."""
        while not self._stop.wait(self.renew_every):
            started = time.monotonic()
            try:
                self._renew(leadership)
            except LeadershipLost as lost:
                leadership.lose(lost.reason)
                return
            except (sa.exc.SQLAlchemyError, OSError) as exc:
                gone = isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
                if gone or leadership.expired_locally():
                    what = "mất kết nối giữ khóa" if gone else "không gia hạn được quyền điều phối"
                    leadership.lose(f"{what} với PostgreSQL ({one_line(exc)})")
                    return
                log.warning("chưa gia hạn được quyền điều phối, thử lại: %s", one_line(exc))
            else:
                leadership.renewed(started)

    def _renew(self, leadership: Leadership) -> None:
        with self._use:
            connection = self._connection
            if connection is None or connection.invalidated:
                raise LeadershipLost("mất kết nối giữ khóa với PostgreSQL")
            try:
                if not self._locked:  # taken by expiry: the lock as soon as it is free
                    self._locked = bool(connection.execute(_TRY_LOCK, self._keys).scalar())
                values = {"name": LEASE_NAME, "length": self.length, "locked": self._locked}
                epoch = connection.execute(_RENEW, {**values, "epoch": leadership.epoch}).scalar()
                connection.commit()
            except sa.exc.DBAPIError:
                if not connection.invalidated:
                    connection.rollback()
                raise
        if epoch is None:
            raise LeadershipLost("một phiên bản khác đã tiếp quản")

    def release(self) -> None:
        """Give the lease up, so that a standby takes over at once, and close the lock
        connection. Never raises: the connection may be gone already."""
        self._stop.set()
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not threading.current_thread():
            keeper.join(timeout=self.length.total_seconds())
        if not self._use.acquire(timeout=self.length.total_seconds()):
            log.warning("kết nối giữ khóa đang bận; đóng mà không trả quyền điều phối")
            return
        try:
            self._give_up()
        finally:
            self._close()
            self._use.release()

    def _give_up(self) -> None:
        connection, leadership = self._connection, self.leadership
        if connection is None or connection.invalidated:
            return
        try:
            if leadership is not None and leadership.epoch is not None:
                connection.execute(_RELEASE, {"name": LEASE_NAME, "epoch": leadership.epoch})
            if self._locked:
                connection.execute(_UNLOCK, self._keys)
            connection.commit()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            log.info("không trả được quyền điều phối (kết nối đã mất: %s)", one_line(exc))

    def _close(self) -> None:
        """Close the lock connection for good (never back to the pool: a session lock dies
        with it)."""
        connection, self._connection = self._connection, None
        self._locked = False
        if connection is None:
            return
        try:
            connection.invalidate()
            connection.close()
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            log.debug("closing the lock connection: %s", one_line(exc))

    def on_lost(self, listener: Callable[[str], None]) -> None:
        if self.leadership is not None:
            self.leadership.on_lost(listener)
