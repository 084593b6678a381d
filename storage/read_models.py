"""Read models: the overview of a plan's units against its reporting periods.

:func:`build_overview` is a pure function of (periods, units, latest reports, now);
:func:`overview` reads its inputs — one row per unit, one per (unit, period) that reported, no
row per history entry — from the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.models import LatestReport, Plan, PlanUnit, ReportingPeriod
from storage.people import focal_point_counts
from storage.plans import due_at, owes, periods, units
from storage.reports import latest_reports

VISIBLE_PERIODS = 6  # columns of the overview: the latest periods due, and the next one
OVERVIEW_AHEAD = timedelta(days=366)  # periods further ahead than this get no column yet


@dataclass(frozen=True)
class Cell:
    """One unit's state for one reporting period."""

    latest: LatestReport | None
    owed: bool  # the unit must report for this period
    overdue: bool  # owed, past the due date, and nothing reported

    @property
    def reported(self) -> bool:
        return self.latest is not None

    @property
    def first_reported_at(self) -> datetime | None:
        return self.latest.first_reported_at if self.latest is not None else None


@dataclass(frozen=True)
class PeriodStats:
    period: ReportingPeriod
    due_at: datetime
    total: int  # units that owe the period
    reported: int
    on_time: int
    late: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.reported / self.total if self.total else 0.0


@dataclass(frozen=True)
class OverviewRow:
    unit: PlanUnit
    focal_point_count: int
    cells: dict[int, Cell]  # by period id


@dataclass(frozen=True)
class Overview:
    plan: Plan
    now: datetime
    periods: list[ReportingPeriod]
    rows: list[OverviewRow]
    stats: list[PeriodStats] = field(default_factory=list)


def visible_periods(
    all_periods: Sequence[ReportingPeriod],
    *,
    now: datetime,
    zone: ZoneInfo,
    limit: int,
    ahead: timedelta | None = None,
) -> list[ReportingPeriod]:
    """The periods worth a column, at most ``limit`` of them, in due order: the next one to
    come, the latest ones past, then (room left) the ones after the next — only those due
    within ``ahead`` of ``now`` if given."""
    upcoming = [p for p in all_periods if due_at(p.due_before, zone) > now]
    past = [p for p in all_periods if due_at(p.due_before, zone) <= now]
    chosen = upcoming[:1] + (past[-(limit - 1) :] if limit > 1 else [])
    later = [p for p in upcoming[1:] if ahead is None or due_at(p.due_before, zone) <= now + ahead]
    chosen += later[: max(limit - len(chosen), 0)]
    return [p for p in all_periods if p in chosen]


def overview(
    session: Session, *, plan: Plan, now: datetime, limit: int | None = VISIBLE_PERIODS
) -> Overview:
    """The reporting matrix of ``plan`` at ``now`` (``limit`` periods, none due more than a
    year ahead: a multi-year plan's later years would only be empty columns; None: every one)."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    shown = periods(session, plan_id=plan.id)
    if limit is not None:
        shown = visible_periods(shown, now=now, zone=zone, limit=limit, ahead=OVERVIEW_AHEAD)
    reporting = units(session, plan_id=plan.id, reporting_only=True)
    latest = latest_reports(
        session, plan_id=plan.id, period_ids=[p.id for p in shown if p.id is not None]
    )
    return build_overview(
        plan=plan,
        now=now,
        periods=shown,
        units=reporting,
        latest={(row.organisation_id, row.period_id): row for row in latest},
        focal_points=focal_point_counts(
            session, plan_id=plan.id, organisation_ids=[u.organisation_id for u in reporting]
        ),
    )


def build_overview(
    *,
    plan: Plan,
    now: datetime,
    periods: Sequence[ReportingPeriod],
    units: Sequence[PlanUnit],
    latest: Mapping[tuple[int, int], LatestReport],
    focal_points: Mapping[int, int],
) -> Overview:
    """The reporting matrix: every reporting unit against every period (a pure function).

    ``latest`` is keyed by (organisation id, period id); ``focal_points`` counts the focal
    points answering for each organisation id in the plan.
    """
    zone = ZoneInfo(plan.timezone)
    rows = [
        OverviewRow(
            unit=unit,
            focal_point_count=focal_points.get(unit.organisation_id, 0),
            cells={
                _id(period.id): _cell(
                    latest.get((unit.organisation_id, _id(period.id))),
                    owed=owes(period, unit),
                    late_from=due_at(period.due_before, zone),
                    now=now,
                )
                for period in periods
            },
        )
        for unit in units
    ]
    stats = [_period_stats(period, rows, zone) for period in periods]
    return Overview(plan=plan, now=now, periods=list(periods), rows=rows, stats=stats)


def _id(value: int | None) -> int:
    assert value is not None, "a row read from the database has an id"
    return value


def _cell(latest: LatestReport | None, *, owed: bool, late_from: datetime, now: datetime) -> Cell:
    overdue = owed and latest is None and now >= late_from
    return Cell(latest=latest, owed=owed, overdue=overdue)


def _period_stats(
    period: ReportingPeriod, rows: Sequence[OverviewRow], zone: ZoneInfo
) -> PeriodStats:
    due = due_at(period.due_before, zone)
    column = [row.cells[_id(period.id)] for row in rows if row.cells[_id(period.id)].owed]
    on_time = sum(1 for c in column if c.first_reported_at and c.first_reported_at < due)
    reported = sum(1 for c in column if c.reported)
    return PeriodStats(
        period=period,
        due_at=due,
        total=len(column),
        reported=reported,
        on_time=on_time,
        late=reported - on_time,
        overdue=sum(1 for c in column if c.overdue),
    )
