"""Reminder occurrences dealt with: queued (with their messages, in one transaction) or dropped."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ReminderRun, RunState
from storage.reports import upsert_for

RUNS = ReminderRun.__table__  # type: ignore[attr-defined]


def runs_of(session: Session, *, plan_id: int) -> set[str]:
    """The keys of the plan's occurrences that have run or were dropped."""
    return set(
        session.exec(select(ReminderRun.occurrence_key).where(col(ReminderRun.plan_id) == plan_id))
    )


def claim_run(
    session: Session, *, plan_id: int, occurrence_key: str, state: RunState, now: datetime
) -> bool:
    """Record that the occurrence runs (or is dropped) now; False when it already was: a second
    firing, by a retry or another instance, changes nothing."""
    statement = (
        upsert_for(session)(RUNS)
        .values(plan_id=plan_id, occurrence_key=occurrence_key, state=state.value, at=now, queued=0)
        .on_conflict_do_nothing(index_elements=["plan_id", "occurrence_key"])
        .returning(RUNS.c.id)
    )
    return len(session.execute(statement).all()) == 1


def count_queued(session: Session, *, plan_id: int, occurrence_key: str, queued: int) -> None:
    run = session.exec(
        select(ReminderRun).where(
            col(ReminderRun.plan_id) == plan_id, col(ReminderRun.occurrence_key) == occurrence_key
        )
    ).one()
    run.queued = queued
    session.add(run)
