"""Read models: the overview of every reporting agency against every deadline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.models import (
    Agency,
    Deadline,
    Plan,
    StatusUpdate,
)
from storage.people import focal_point_counts
from storage.plans import agencies, deadlines, due_at
from storage.reports import first_report_times, latest_status_updates


@dataclass(frozen=True)
class Cell:
    """One agency's state for one deadline."""

    latest: StatusUpdate | None
    first_reported_at: datetime | None
    overdue: bool  # past the deadline and nothing reported

    @property
    def reported(self) -> bool:
        return self.latest is not None


@dataclass(frozen=True)
class DeadlineStats:
    deadline: Deadline
    due_at: datetime
    total: int
    reported: int
    on_time: int
    late: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.reported / self.total if self.total else 0.0


@dataclass(frozen=True)
class OverviewRow:
    agency: Agency
    focal_point_count: int
    cells: dict[int, Cell]


@dataclass(frozen=True)
class Overview:
    plan: Plan
    now: datetime
    deadlines: list[Deadline]
    rows: list[OverviewRow]
    stats: list[DeadlineStats] = field(default_factory=list)


def overview(session: Session, *, plan: Plan, now: datetime) -> Overview:
    """The reporting matrix of ``plan`` at ``now``, read from the database."""
    assert plan.id is not None
    reporting = agencies(session, plan_id=plan.id, reporting_only=True)
    return build_overview(
        plan=plan,
        now=now,
        deadlines=deadlines(session, plan_id=plan.id),
        agencies=reporting,
        latest=latest_status_updates(session, plan_id=plan.id),
        first_reported=first_report_times(session, plan_id=plan.id),
        focal_points=focal_point_counts(session, agency_ids=[a.id for a in reporting if a.id]),
    )


def build_overview(
    *,
    plan: Plan,
    now: datetime,
    deadlines: Sequence[Deadline],
    agencies: Sequence[Agency],
    latest: Mapping[tuple[int, int], StatusUpdate],
    first_reported: Mapping[tuple[int, int], datetime],
    focal_points: Mapping[int, int],
) -> Overview:
    """The reporting matrix: every reporting agency against every deadline (a pure function).

    ``latest`` and ``first_reported`` are keyed by (agency id, deadline id); ``focal_points``
    counts the active focal points of each agency id.
    """
    zone = ZoneInfo(plan.timezone)
    rows = [
        OverviewRow(
            agency=agency,
            focal_point_count=focal_points.get(_id(agency.id), 0),
            cells={
                _id(deadline.id): _cell(
                    latest.get((_id(agency.id), _id(deadline.id))),
                    first_reported.get((_id(agency.id), _id(deadline.id))),
                    overdue_from=due_at(deadline.due_before, zone),
                    now=now,
                )
                for deadline in deadlines
            },
        )
        for agency in agencies
    ]
    stats = [_deadline_stats(deadline, rows, zone) for deadline in deadlines]
    return Overview(plan=plan, now=now, deadlines=list(deadlines), rows=rows, stats=stats)


def _id(value: int | None) -> int:
    assert value is not None, "a row read from the database has an id"
    return value


def _cell(
    latest: StatusUpdate | None, first: datetime | None, *, overdue_from: datetime, now: datetime
) -> Cell:
    return Cell(
        latest=latest, first_reported_at=first, overdue=latest is None and now >= overdue_from
    )


def _deadline_stats(
    deadline: Deadline, rows: Sequence[OverviewRow], zone: ZoneInfo
) -> DeadlineStats:
    due = due_at(deadline.due_before, zone)
    column = [row.cells[_id(deadline.id)] for row in rows]
    on_time = sum(
        1 for c in column if c.first_reported_at is not None and c.first_reported_at < due
    )
    reported = sum(1 for c in column if c.reported)
    return DeadlineStats(
        deadline=deadline,
        due_at=due,
        total=len(column),
        reported=reported,
        on_time=on_time,
        late=reported - on_time,
        overdue=sum(1 for c in column if c.overdue),
    )
