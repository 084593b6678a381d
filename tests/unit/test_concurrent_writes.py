"""Two turns racing for one row, in real threads on real databases (both backends): the loser
gets a clear answer, never the generic error, and nothing is written twice.

The race is made to happen every time: the first turn is held just before its write (an engine
event, where SQLAlchemy hands the statement to the driver) until the second has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.dialog.core import DialogCore
from scheduler.reminders import CoordinatorAddress
from storage.database import Database
from storage.models import FocalPoint, Organisation, Plan, PlanMembership
from storage.plan_loader import load_plan
from tests.conftest import SEED_PLAN_FILE, active_seed_spec
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.unit.test_dialog import COORDINATOR_ID, invite_code, register

SECOND_COORDINATOR = "1002"
WAIT = 60.0  # seconds a thread may take at most (never reached unless something hangs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))


@pytest.fixture
def core(seed_plan: Plan, clock: FakeClock) -> DialogCore:
    coordinators = [
        CoordinatorAddress("telegram", COORDINATOR_ID),
        CoordinatorAddress("telegram", SECOND_COORDINATOR),
    ]
    return dialog_core(clock=clock, coordinators=coordinators)


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID)


class HeldStatement:
    """Holds the first statement starting with ``prefix`` that the thread named ``thread``
    sends, until :meth:`go_on`; ``reached`` is set when it got there."""

    def __init__(self, database: Database, *, thread: str, prefix: str) -> None:
        self._engine, self._thread, self._prefix = database.engine, thread, prefix.upper()
        self.reached, self._go_on, self._held = threading.Event(), threading.Event(), False
        sa.event.listen(self._engine, "before_cursor_execute", self._before)

    def _before(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._held or threading.current_thread().name != self._thread:
            return
        if statement.lstrip().upper().startswith(self._prefix):
            self._held = True  # once: a turn run again goes through
            self.reached.set()
            self._go_on.wait(WAIT)

    def go_on(self) -> None:
        self._go_on.set()

    def remove(self) -> None:
        """Once no thread runs through the listener any more (removing it changes the list
        SQLAlchemy walks)."""
        sa.event.remove(self._engine, "before_cursor_execute", self._before)


@contextmanager
def racing(database: Database, first: Callable[[], object], *, held_before: str) -> Iterator[None]:
    """Run ``first`` in a thread held before ``held_before``; the block is the second turn,
    which commits meanwhile; ``first`` then goes on."""
    held = HeldStatement(database, thread="first-turn", prefix=held_before)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            first()
        except BaseException as exc:  # handed to the test below
            failures.append(exc)

    thread = threading.Thread(target=run, name="first-turn")
    thread.start()
    try:
        assert held.reached.wait(WAIT), f"the first turn never got to {held_before!r}"
        yield
    finally:
        held.go_on()
        thread.join(WAIT)
        held.remove()
    assert not failures, failures
    assert not thread.is_alive()


def count(database: Database, model: type, *where: sa.ColumnElement[bool]) -> int:
    def read(session: Session) -> int:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()

    return database.run_sync(read)


def test_two_people_claiming_one_invite_at_once(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    code = invite_code(coordinator, "SYT")
    first, second = CoreChat(database, core, "2001"), CoreChat(database, core, "2002")
    with racing(database, lambda: first.send(f"/start {code}"), held_before="UPDATE invites"):
        second.send(f"/start {code}")
        assert "họ và tên" in second.text(), second.text()
    assert "Mã mời này đã được sử dụng" in first.text(), first.text()


def test_two_registrations_at_once_both_succeed(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    first, second = CoreChat(database, core, "2001"), CoreChat(database, core, "2002")
    for chat in (first, second):
        chat.send(f"/start {invite_code(coordinator, 'SYT')}")
        chat.send("Nguyễn Thị Hoa")
        chat.send("Chuyên viên")
        chat.send("0912 345 678")
    with racing(database, lambda: first.press("Xác nhận"), held_before="INSERT INTO focal_points"):
        second.press("Xác nhận")
    assert "Đăng ký thành công" in first.text() and "Đăng ký thành công" in second.text()
    assert count(database, FocalPoint) == 2


def test_two_coordinators_adding_the_same_unit_at_once(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    other = CoreChat(database, core, SECOND_COORDINATOR)
    with racing(
        database,
        lambda: coordinator.send("/themdonvi Sở Công Thương"),
        held_before="INSERT INTO organisations",
    ):
        other.send("/themdonvi Sở Công Thương")
        assert "Đã thêm Sở Công Thương" in other.text(), other.text()
    assert "Đơn vị «Sở Công Thương» đã có trong kế hoạch (mã SCT)" in coordinator.text()
    assert count(database, Organisation, col(Organisation.name) == "Sở Công Thương") == 1


def test_two_units_whose_codes_collide_added_at_once_get_two_codes(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    other = CoreChat(database, core, SECOND_COORDINATOR)
    with racing(
        database,
        lambda: coordinator.send("/themdonvi Sở Công Thương"),
        held_before="INSERT INTO organisations",
    ):
        other.send("/themdonvi Sở Cấp Thoát")  # the same initials: SCT
    assert "Đã thêm Sở Công Thương" in coordinator.text(), coordinator.text()
    assert "với mã SCT2" in coordinator.text(), coordinator.text()


def test_joining_a_plan_from_two_places_at_once(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    member = register(database, core, coordinator, user_id="2001")
    spec = active_seed_spec().model_copy(update={"code": "41-kh-ubnd", "number": "41/KH-UBND"})
    second_plan = database.run_sync(load_plan, spec, source_file=str(SEED_PLAN_FILE), now=clock.now)
    join = f"a.tg.{second_plan.id}"
    twin = CoreChat(database, core, "2001")  # the same person, another device
    with racing(
        database, lambda: member.press_payload(join), held_before="INSERT INTO plan_memberships"
    ):
        twin.press_payload(join)
        assert "41/KH-UBND" in twin.text(), twin.text()
    assert "41/KH-UBND" in member.text(), member.text()
    memberships = count(database, PlanMembership, col(PlanMembership.plan_id) == second_plan.id)
    assert memberships == 1


def test_a_sqlite_transaction_reads_and_writes_one_snapshot(sqlite_database: Database) -> None:
    """A read-then-write is atomic on SQLite: the transaction begins at its first statement,
    and one whose snapshot another changed since is run again (on PostgreSQL, the tests above
    race on unique keys and conditional updates instead)."""
    database = sqlite_database

    def create(session: Session) -> None:
        session.execute(sa.text("CREATE TABLE counter (value INTEGER NOT NULL)"))
        session.execute(sa.text("INSERT INTO counter VALUES (0)"))

    def read(session: Session) -> int:
        return int(session.execute(sa.text("SELECT value FROM counter")).scalar_one())

    def increment(session: Session) -> int:
        value = read(session) + 1
        session.execute(sa.text("UPDATE counter SET value = :value"), {"value": value})
        return value

    database.run_sync(create)
    with racing(database, lambda: database.run_sync(increment), held_before="UPDATE"):
        database.run_sync(increment)
    assert database.run_sync(read) == 2  # before, the first increment wrote 1 over the other's


def test_many_people_registering_at_the_same_moment(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    """No pause this time: eight threads let go at once."""
    chats = [CoreChat(database, core, f"30{n:02d}") for n in range(8)]
    for chat in chats:
        chat.send(f"/start {invite_code(coordinator, 'SYT')}")
        chat.send("Nguyễn Thị Hoa")
        chat.send("Chuyên viên")
        chat.send("0912 345 678")
    start = threading.Barrier(len(chats))
    failures: list[BaseException] = []

    def confirm(chat: CoreChat) -> None:
        start.wait(WAIT)
        try:
            chat.press("Xác nhận")
        except BaseException as exc:  # handed to the test below
            failures.append(exc)

    threads = [threading.Thread(target=confirm, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not failures, failures
    assert all("Đăng ký thành công" in chat.text() for chat in chats)
    assert count(database, FocalPoint) == len(chats)
