"""The service lock (issue 9, item 2).

SQLite: the lock is the database file's own, so no other name of that file gets past it.
PostgreSQL: a lease whose epoch fences the writes of the sender and the scheduler; losing the
lock connection or being taken over ends leadership at once, and nothing is written after.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from scheduler.messages import OutgoingMessage
from scheduler.outbox import OutboxSender, Outcome, outbox_message, record_outcomes
from scheduler.pacing import SendingBudget
from scheduler.policy import ReminderKind, ReminderOccurrence
from scheduler.reminders import Digest, fire_occurrence
from storage import migrate, outbox
from storage.database import Database
from storage.lease import (
    EARLIER_RELEASE,
    LEGACY_KEY,
    Leadership,
    LeadershipLost,
    LeaseRow,
    PostgresLease,
    fenced,
    may_take,
)
from storage.lock import FileLock, ServiceLockHeld, acquire_service_lock, wait_for_service_lock
from storage.models import OutboxMessage, OutboxState, ReminderRun
from storage.plan_loader import load_plan
from tests.conftest import (
    SEED_PLAN_FILE,
    TEST_DATABASE_URL,
    active_seed_spec,
    drop_postgres_schema,
    postgres_schema_database,
)
from tests.fixtures.crowd import seed_crowd

NOW = datetime(2021, 6, 3, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=1)  # short: these tests wait for leases to end

# --- SQLite: every name of the file meets the same lock ------------------------------------


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "nhacviec.db"
    path.parent.mkdir()
    migrate.upgrade(database := Database(f"sqlite:///{path}"))
    database.dispose()
    return path


def locked(url: str) -> FileLock:
    lock = acquire_service_lock(Database(url))
    assert isinstance(lock, FileLock)
    return lock


def test_a_symlink_to_the_database_meets_the_lock(database_file: Path, tmp_path: Path) -> None:
    (tmp_path / "link.db").symlink_to(database_file)
    held = locked(f"sqlite:///{database_file}")
    try:
        with pytest.raises(ServiceLockHeld) as refused:
            locked(f"sqlite:///{tmp_path / 'link.db'}")
        assert refused.value.where == str(database_file.resolve())
    finally:
        held.release()


def test_a_hard_link_to_the_database_meets_the_lock(database_file: Path, tmp_path: Path) -> None:
    os.link(database_file, tmp_path / "copy.db")
    held = locked(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        with pytest.raises(ServiceLockHeld):
            locked(f"sqlite:///{database_file}")
    finally:
        held.release()


def test_a_relative_path_or_a_symlinked_directory_meets_the_lock(
    database_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").symlink_to(database_file.parent, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    held = locked(f"sqlite:///{database_file}")
    try:
        for url in (
            "sqlite:///data/nhacviec.db",
            "sqlite:///./data/../data/nhacviec.db",
            "sqlite:///elsewhere/nhacviec.db",
        ):
            with pytest.raises(ServiceLockHeld):
                locked(url)
    finally:
        held.release()


def test_once_released_the_database_can_be_locked_again_and_used_meanwhile(
    database_file: Path, tmp_path: Path
) -> None:
    """The flock never gets in the way of SQLite's own locks (another connection writes while
    it is held), and goes with its descriptor."""
    held = locked(f"sqlite:///{database_file}")
    other = Database(f"sqlite:///{database_file}")
    try:
        other.run_sync(outbox.enqueue_outbox, [_message("k1")])
        assert other.run_sync(outbox.outbox_by_key, "k1") is not None
    finally:
        other.dispose()
        held.release()
    (tmp_path / "link.db").symlink_to(database_file)
    locked(f"sqlite:///{tmp_path / 'link.db'}").release()


def test_on_sqlite_nobody_stands_by(database_file: Path) -> None:
    held = locked(f"sqlite:///{database_file}")
    try:
        with pytest.raises(ServiceLockHeld):
            wait_for_service_lock(
                Database(f"sqlite:///{database_file}"),
                cancelled=threading.Event(),
                standing_by=lambda held: None,
            )
    finally:
        held.release()


# --- the takeover rule ----------------------------------------------------------------------


def row(*, expires_in: float, lock_pid: int | None) -> LeaseRow:
    return LeaseRow("host:1:ab", 4, NOW + timedelta(seconds=expires_in), lock_pid, NOW)


@pytest.mark.parametrize(
    ("lease", "have_lock", "expected"),
    [
        (None, False, True),  # nobody has ever led
        (row(expires_in=-1, lock_pid=77), False, True),  # expired (a paused or cut-off leader)
        (row(expires_in=5, lock_pid=77), False, False),  # a live leader with its lock
        (row(expires_in=5, lock_pid=77), True, True),  # its lock session is gone
        (row(expires_in=5, lock_pid=None), True, False),  # took over by expiry, lock pending
    ],
)
def test_when_an_instance_may_take_the_lease(
    lease: LeaseRow | None, have_lock: bool, expected: bool
) -> None:
    assert may_take(lease, have_lock=have_lock) is expected


def test_leadership_tells_every_listener_once_even_the_late_ones() -> None:
    leadership = Leadership(holder="a", epoch=1, length=LEASE)
    heard: list[str] = []
    leadership.on_lost(heard.append)
    leadership.lose("mất kết nối")
    leadership.lose("again")
    leadership.on_lost(heard.append)
    assert heard == ["mất kết nối", "mất kết nối"]
    with pytest.raises(LeadershipLost, match="mất kết nối"):
        leadership.check()


# --- PostgreSQL ----------------------------------------------------------------------------

postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL)"
)


@pytest.fixture
def schema() -> Iterator[tuple[Database, Database]]:
    """Two instances' databases on one fresh schema, migrated, the seed plan with 3 focal
    points loaded."""
    assert TEST_DATABASE_URL is not None
    first, name = postgres_schema_database(TEST_DATABASE_URL)
    second = Database(TEST_DATABASE_URL, schema=name)
    try:
        migrate.upgrade(first)
        spec = active_seed_spec()

        def fill(session: Session) -> None:
            load_plan(session, spec, source_file=str(SEED_PLAN_FILE), now=NOW)
            seed_crowd(session, plan_code=spec.code, count=3, now=NOW)

        first.run_sync(fill)
        yield first, second
    finally:
        first.dispose()
        second.dispose()
        drop_postgres_schema(TEST_DATABASE_URL, name)


def lead(database: Database) -> PostgresLease:
    lease = PostgresLease(database.engine, length=LEASE)
    assert lease.try_take() is None
    assert lease.leadership is not None and lease.leadership.epoch is not None
    return lease


def terminate_lock_session(database: Database, lease: PostgresLease) -> None:
    with database.engine.begin() as connection:
        pid = connection.execute(sa.text("SELECT lock_pid FROM service_leases")).scalar()
        assert pid is not None
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def wait_until_lost(lease: PostgresLease, within: float) -> float:
    assert lease.leadership is not None
    started = time.monotonic()
    while lease.leadership.lost is None:
        assert time.monotonic() - started < within, "leadership still held"
        time.sleep(0.02)
    return time.monotonic() - started


@postgres
@pytest.mark.postgres
def test_a_live_lease_is_not_taken_and_released_it_is_taken_with_the_next_epoch(
    schema: tuple[Database, Database],
) -> None:
    first, second = schema
    leader = lead(first)
    other = PostgresLease(second.engine, length=LEASE)
    try:
        holder = other.try_take()
        assert holder is not None and holder.name == leader.holder
        with pytest.raises(ServiceLockHeld):  # `nhacviec migrate` under a live service
            acquire_service_lock(second, lease=LEASE)
    finally:
        leader.release()
    assert other.try_take() is None and other.leadership is not None
    assert leader.leadership is not None and leader.leadership.epoch is not None
    assert other.leadership.epoch == leader.leadership.epoch + 1
    other.release()


@postgres
@pytest.mark.postgres
def test_a_terminated_lock_connection_ends_leadership_and_fences_every_write(
    schema: tuple[Database, Database],
) -> None:
    first, second = schema
    first.run_sync(outbox.enqueue_outbox, [_message("k1")])
    leader = lead(first)
    first.run_sync(_record_sent, "k1")  # while it leads
    first.run_sync(outbox.enqueue_outbox, [_message("k2")])
    terminate_lock_session(second, leader)
    assert wait_until_lost(leader, within=LEASE.total_seconds()) < LEASE.total_seconds()
    assert leader.leadership is not None and "mất kết nối giữ khóa" in str(leader.leadership.lost)
    successor = lead(second)  # at once: the lock is free, the lease not yet expired
    with pytest.raises(LeadershipLost):
        first.run_sync(_record_sent, "k2")
    with pytest.raises(LeadershipLost):
        first.run_sync(
            fire_occurrence,
            plan_code=active_seed_spec().code,
            occurrence=_occurrence(),
            coordinators=[],
            digest=lambda session, **_: Digest(""),
            now=NOW,
        )
    assert first.run_sync(_state, "k2") == OutboxState.PENDING
    assert first.run_sync(lambda s: list(s.exec(select(ReminderRun.id)))) == []
    second.run_sync(_record_sent, "k2")
    leader.release()  # the connection is gone: no error
    successor.release()


@postgres
@pytest.mark.postgres
def test_a_leader_that_stops_renewing_is_taken_over_once_its_lease_expires(
    schema: tuple[Database, Database],
) -> None:
    """A paused leader keeps its lock session; the standby takes over by expiry, without the
    lock, and gets the lock once the old leader lets it go. The old leader is fenced out."""
    first, second = schema
    paused = first.engine.connect()  # a leader frozen with its lock: nobody renews its lease
    paused.execute(
        sa.text("SELECT pg_advisory_lock(:c, :o)"),
        {"c": 0x6E68_6163, "o": _schema_key(first)},
    )
    paused.execute(
        sa.text(
            "INSERT INTO service_leases VALUES ('service', 'frozen:1:aa', 7, "
            "now() + interval '1 second', pg_backend_pid(), now())"
        )
    )
    paused.commit()
    standby = PostgresLease(second.engine, length=LEASE)
    assert standby.try_take() is not None  # held, and the lock is not free
    time.sleep(1.1)
    assert standby.try_take() is None and standby.leadership is not None
    assert standby.leadership.epoch == 8
    with Session(first.engine) as session:
        first.engine.update_execution_options(
            nhacviec_leadership=Leadership(holder="frozen:1:aa", epoch=7, length=LEASE)
        )
        with pytest.raises(LeadershipLost, match="lượt 8"):
            fenced(session)
    paused.invalidate()  # the old leader lets its lock go: the new one takes it when renewing
    paused.close()
    deadline = time.monotonic() + 3 * LEASE.total_seconds()
    while _lock_pid(second) is None:
        assert time.monotonic() < deadline, "the new leader never took the lock"
        time.sleep(0.05)
    assert standby.leadership.lost is None
    standby.release()


@postgres
@pytest.mark.postgres
async def test_the_sender_of_a_leader_that_lost_stops_without_sending(
    schema: tuple[Database, Database],
) -> None:
    first, second = schema
    first.run_sync(outbox.enqueue_outbox, [_message(f"k{n}") for n in range(5)])
    leader = lead(first)
    terminate_lock_session(second, leader)
    await asyncio.to_thread(wait_until_lost, leader, LEASE.total_seconds())
    delivered: list[str] = []
    sender = OutboxSender(first, {"telegram": _Recorder(delivered)}, clock=lambda: NOW)
    await asyncio.wait_for(sender.run(), timeout=5)  # returns: it does not retry
    assert delivered == []
    assert first.run_sync(_state, "k0") == OutboxState.PENDING
    leader.release()


@postgres
@pytest.mark.postgres
def test_a_standby_waits_says_who_leads_and_takes_over_when_the_leader_releases(
    schema: tuple[Database, Database],
) -> None:
    first, second = schema
    leader = lead(first)
    told: list[str] = []
    taken: list[object] = []
    cancelled = threading.Event()

    def stand_by() -> None:
        taken.append(
            wait_for_service_lock(
                second, cancelled=cancelled, standing_by=lambda h: told.append(h.where), lease=LEASE
            )
        )

    waiting = threading.Thread(target=stand_by)
    waiting.start()
    time.sleep(0.6)
    assert told == [leader.holder] and taken == []
    leader.release()
    waiting.join(timeout=5)
    [lock] = taken
    assert isinstance(lock, PostgresLease) and lock.leadership is not None
    lock.release()


@postgres
@pytest.mark.postgres
def test_a_database_older_than_the_lease_is_not_upgraded_under_an_earlier_release(
    schema: tuple[Database, Database],
) -> None:
    """Without the lease table, the earlier releases' advisory lock is what tells a running
    service: migrate is refused while it is held; once upgraded, the lease takes over."""
    first, second = schema
    migrate.downgrade(first, "0003")
    earlier = second.engine.connect()
    earlier.execute(sa.text("SELECT pg_advisory_lock(CAST(:k AS bigint))"), {"k": LEGACY_KEY})
    earlier.commit()
    try:
        with pytest.raises(ServiceLockHeld) as refused:
            acquire_service_lock(first, lease=LEASE)
        assert refused.value.where == EARLIER_RELEASE
    finally:
        earlier.invalidate()
        earlier.close()
    lock = acquire_service_lock(first, lease=LEASE)
    try:
        migrate.upgrade(first)
        lock.confirm()
        assert lock.leadership is not None and lock.leadership.epoch == 1
        with second.engine.connect() as probe:  # let go again: other schemas may need it
            taken = probe.execute(
                sa.text("SELECT pg_try_advisory_lock(CAST(:k AS bigint))"), {"k": LEGACY_KEY}
            ).scalar()
            probe.invalidate()
        assert taken
    finally:
        lock.release()


# --- helpers --------------------------------------------------------------------------------


def _message(key: str) -> OutboxMessage:
    return outbox_message(
        key=key, channel="telegram", chat_id="700000", rule="thong-bao", text="Họp", now=NOW
    )


def _record_sent(session: Session, key: str) -> None:
    """The sender's write of a delivery, as the drain does it."""
    row = session.exec(select(OutboxMessage).where(col(OutboxMessage.key) == key)).one()
    record_outcomes(session, [Outcome(row=row, at=NOW)])


def _state(session: Session, key: str) -> OutboxState:
    state = session.exec(select(OutboxMessage.state).where(col(OutboxMessage.key) == key)).one()
    return OutboxState(state)


def _lock_pid(database: Database) -> int | None:
    with database.engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT lock_pid FROM service_leases")).scalar()
    return int(pid) if pid is not None else None


def _schema_key(database: Database) -> int:
    assert database.schema is not None
    digest = zlib.crc32(database.schema.encode())
    return digest - 2**32 if digest >= 2**31 else digest


def _occurrence() -> ReminderOccurrence:
    return ReminderOccurrence(
        fire_at=NOW,
        key="truoc-han/so-ket-6-thang/5",
        kind=ReminderKind.BEFORE_DEADLINE,
        subject="so-ket-6-thang",
        working_days=5,
    )


class _Recorder:
    channel = "telegram"

    def __init__(self, delivered: list[str]) -> None:
        self.delivered = delivered
        self.budget = SendingBudget(self.channel, 1000.0)

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        self.delivered.append(chat_id)
