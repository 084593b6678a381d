"""Status updates: append-only reports of an agency for one deadline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from storage.models import (
    Agency,
    Deadline,
    StatusUpdate,
)


def record_status_update(session: Session, update: StatusUpdate) -> StatusUpdate:
    """Append a status update. Rows are never changed afterwards."""
    session.add(update)
    session.flush()
    return update


def status_update_by_id(session: Session, update_id: int) -> StatusUpdate | None:
    return session.get(StatusUpdate, update_id)


def status_history(
    session: Session, *, agency_id: int, limit: int | None = None
) -> list[StatusUpdate]:
    """An agency's status updates, newest first."""
    query = (
        select(StatusUpdate)
        .where(StatusUpdate.agency_id == agency_id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def all_status_updates(session: Session, *, plan_id: int) -> list[StatusUpdate]:
    return list(
        session.exec(
            select(StatusUpdate)
            .join(Deadline, col(Deadline.id) == StatusUpdate.deadline_id)
            .where(Deadline.plan_id == plan_id)
            .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
        )
    )


def latest_status_updates(session: Session, *, plan_id: int) -> dict[tuple[int, int], StatusUpdate]:
    """The latest status update of every (agency, deadline) pair that has one."""
    latest: dict[tuple[int, int], StatusUpdate] = {}
    for update in all_status_updates(session, plan_id=plan_id):
        latest[(update.agency_id, update.deadline_id)] = update
    return latest


def first_report_times(session: Session, *, plan_id: int) -> dict[tuple[int, int], datetime]:
    """When each (agency, deadline) pair first reported: that decides "on time"."""
    rows = session.exec(
        select(StatusUpdate.agency_id, StatusUpdate.deadline_id, func.min(StatusUpdate.created_at))
        .join(Deadline, col(Deadline.id) == StatusUpdate.deadline_id)
        .where(Deadline.plan_id == plan_id)
        .group_by(col(StatusUpdate.agency_id), col(StatusUpdate.deadline_id))
    )
    result: dict[tuple[int, int], datetime] = {}
    for agency_id, deadline_id, first in rows:
        # min() keeps the column type, so values come back aware; be safe with drivers anyway
        result[(agency_id, deadline_id)] = first if first.tzinfo else first.replace(tzinfo=UTC)
    return result


def agencies_reported(session: Session, *, deadline_id: int) -> set[int]:
    return set(
        session.exec(
            select(StatusUpdate.agency_id).where(StatusUpdate.deadline_id == deadline_id).distinct()
        )
    )


def agencies_updated_since(session: Session, *, plan_id: int, since: datetime) -> set[int]:
    return set(
        session.exec(
            select(StatusUpdate.agency_id)
            .join(Agency, col(Agency.id) == StatusUpdate.agency_id)
            .where(Agency.plan_id == plan_id, col(StatusUpdate.created_at) >= since)
            .distinct()
        )
    )
