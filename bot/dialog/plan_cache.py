"""Plans as the dialog reads them on every turn, kept between turns.

Plans, their sections and their units are written when plan files are loaded (at start-up) and
when a coordinator adds a unit to an open section; every turn reads them (which plan a command
works on, the coordinator's name in the answer, the help). :class:`PlanCache` keeps what it read
until any session flushes a change to a plan, a section or a unit (and again when that session
commits): the next read then goes to the database. What it hands out are detached rows: read
them, never change them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from scheduler.reminders import coordinator_name
from storage import plans
from storage.models import Plan, PlanSection, PlanStatus, PlanUnit

T = TypeVar("T")

WATCHED = (Plan, PlanSection, PlanUnit)
CHANGED = "nhacviec_plans_changed"  # session.info key: this session wrote plans

_generation = 0  # bumped whenever plans may have changed, in any session of this process


def plans_generation() -> int:
    return _generation


def plans_changed() -> None:
    """Forget what every cache read (plans were written some way sessions do not show)."""
    global _generation
    _generation += 1


@sa.event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, context: Any) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, WATCHED) for row in touched):
        session.info[CHANGED] = True
        plans_changed()


@sa.event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if session.info.pop(CHANGED, False):  # a turn may have read the old rows in between
        plans_changed()


@sa.event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(CHANGED, None)


Row = TypeVar("Row", Plan, PlanSection)


def detached(row: Row) -> Row:
    """A copy of ``row`` in no session, known as stored (so no session of another thread, nor
    its ``expire_all``, ever touches what the cache hands out)."""
    copy = type(row)(**row.model_dump())
    make_transient_to_detached(copy)
    return copy


class PlanCache:
    """Plans, sections and coordinator names read once, until plans change (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = plans_generation()
        self._values: dict[tuple[object, ...], object] = {}

    def _get(self, key: tuple[object, ...], load: Callable[[], T]) -> T:
        generation = plans_generation()
        with self._lock:
            if generation != self._generation:
                self._values.clear()
                self._generation = generation
            if key in self._values:
                return self._values[key]  # type: ignore[return-value]
        value = load()
        with self._lock:  # kept only if nothing changed while it was read
            if plans_generation() == generation == self._generation:
                self._values[key] = value
        return value

    def plan(self, session: Session, plan_id: int) -> Plan | None:
        def load() -> Plan | None:
            plan = plans.plan_by_id(session, plan_id)
            return detached(plan) if plan is not None else None

        return self._get(("plan", plan_id), load)

    def plans_in(self, session: Session, statuses: Iterable[PlanStatus]) -> list[Plan]:
        """Plans with one of ``statuses``, the newest issued first."""
        wanted = tuple(statuses)
        return list(
            self._get(
                ("in", wanted), lambda: [detached(p) for p in plans.plans_in(session, wanted)]
            )
        )

    def active(self, session: Session) -> list[Plan]:
        return self.plans_in(session, [PlanStatus.ACTIVE])

    def open_sections(self, session: Session, plan_id: int) -> list[PlanSection]:
        def load() -> list[PlanSection]:
            return [detached(s) for s in plans.open_sections(session, plan_id=plan_id)]

        return list(self._get(("open", plan_id), load))

    def coordinator_name(self, session: Session, plan: Plan | None) -> str:
        """How messages name the coordinating unit: the plan's, or the newest active plan's."""
        key = ("coordinator", plan.id if plan is not None else None)
        return self._get(key, lambda: coordinator_name(session, plan=plan))
