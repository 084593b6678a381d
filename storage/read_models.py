"""Read models: the overview of a plan's units against its reporting periods.

:func:`build_overview` is a pure function of (periods, units, latest reports, now);
:func:`overview` reads its inputs — one row per unit, one per (unit, period) that reported, no
row per history entry — from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.models import Plan, PlanUnit, ReportingPeriod
from storage.people import focal_point_counts
from storage.plans import due_at, owed_by, periods, units
from storage.reports import LatestRow, latest_report_rows

# When a report first came, compared with the due instant: a datetime here, the database's UTC
# text in the export's plain rows (storage.export_rows), which need no datetime per cell.
Moment = TypeVar("Moment", datetime, str)
Owers = frozenset[str] | None  # the codes and sections that owe a period; None: every unit

VISIBLE_PERIODS = 6  # columns of the overview: the latest periods due, and the next one
OVERVIEW_AHEAD = timedelta(days=366)  # periods further ahead than this get no column yet


@dataclass(frozen=True)
class Cell:
    """One unit's state for one reporting period."""

    latest: LatestRow | None
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


@dataclass(frozen=True)
class Totals:
    """An overview in counts: the shown periods' totals and the reporting units by kind (in
    the plan order of each kind's first unit). Read in SQL for a large plan
    (:func:`storage.overview_counts.overview_totals`) or counted from an :class:`Overview`
    (:func:`totals_of`)."""

    plan: Plan
    now: datetime
    periods: list[ReportingPeriod]
    stats: list[PeriodStats]
    kinds: dict[str, int]

    @property
    def units(self) -> int:
        return sum(self.kinds.values())


def totals_of(overview: Overview) -> Totals:
    """The counts of an overview read in full (a pure function)."""
    kinds: dict[str, int] = {}
    for row in overview.rows:
        kinds[row.unit.kind] = kinds.get(row.unit.kind, 0) + 1
    return Totals(
        plan=overview.plan,
        now=overview.now,
        periods=list(overview.periods),
        stats=list(overview.stats),
        kinds=kinds,
    )


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
    latest = latest_report_rows(
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
    latest: Mapping[tuple[int, int], LatestRow],
    focal_points: Mapping[int, int],
) -> Overview:
    """The reporting matrix: every reporting unit against every period (a pure function).

    ``latest`` is keyed by (organisation id, period id); ``focal_points`` counts the focal
    points answering for each organisation id in the plan.
    """
    zone = ZoneInfo(plan.timezone)
    columns = [(_id(p.id), owers(p), now >= due_at(p.due_before, zone)) for p in periods]
    rows = [_row(unit, columns, latest, focal_points) for unit in units]
    stats = [_period_stats(period, rows, zone, now) for period in periods]
    return Overview(plan=plan, now=now, periods=list(periods), rows=rows, stats=stats)


def owers(period: ReportingPeriod) -> Owers:
    """The codes and sections that owe ``period`` (None: every unit), as in plans.owes."""
    refs = owed_by(period)
    return None if refs is None else frozenset(refs)


def owed_columns(
    columns: Sequence[Owers], *, code: str, section: str, coordinator: bool
) -> tuple[bool, ...]:
    """Whether a unit owes each period of ``columns`` (who owes each): plans.owes for a row of
    periods (the coordinator receives, never owes)."""
    if coordinator:
        return (False,) * len(columns)
    return tuple(refs is None or code in refs or section in refs for refs in columns)


def period_stats(
    period: ReportingPeriod,
    due: datetime,
    *,
    owing: int,
    reported: int,
    on_time: int,
    past_due: bool,
) -> PeriodStats:
    """A period's totals from its counts (a pure function): ``owing`` units owe it,
    ``reported`` of them reported, ``on_time`` first before the due instant ``due``."""
    return PeriodStats(
        period=period,
        due_at=due,
        total=owing,
        reported=reported,
        on_time=on_time,
        late=reported - on_time,
        overdue=owing - reported if past_due else 0,
    )


def count_before(firsts: Iterable[Moment], before: Moment) -> int:
    """How many first reports came before the due instant: those on time."""
    return sum(1 for first in firsts if first < before)


def _id(value: int | None) -> int:
    assert value is not None, "a row read from the database has an id"
    return value


_EMPTY_CELLS = {
    (owed, overdue): Cell(latest=None, owed=owed, overdue=overdue)
    for owed in (False, True)
    for overdue in (False, True)
}


def _row(
    unit: PlanUnit,
    columns: Sequence[tuple[int, Owers, bool]],
    latest: Mapping[tuple[int, int], LatestRow],
    focal_points: Mapping[int, int],
) -> OverviewRow:
    """One unit's cells; ``columns`` are (period id, who owes it, whether it is past due)."""
    organisation_id = unit.organisation_id
    owed_row = owed_columns(
        [refs for _, refs, _ in columns],
        code=unit.code,
        section=unit.section,
        coordinator=unit.is_coordinator,
    )
    cells = {}
    for (period_id, _, past_due), owed in zip(columns, owed_row, strict=True):
        report = latest.get((organisation_id, period_id))
        if report is None:  # cells without a report are alike: shared, not built per unit
            cells[period_id] = _EMPTY_CELLS[owed, owed and past_due]
        else:
            cells[period_id] = Cell(latest=report, owed=owed, overdue=False)
    return OverviewRow(
        unit=unit, focal_point_count=focal_points.get(organisation_id, 0), cells=cells
    )


def _period_stats(
    period: ReportingPeriod, rows: Sequence[OverviewRow], zone: ZoneInfo, now: datetime
) -> PeriodStats:
    due, period_id = due_at(period.due_before, zone), _id(period.id)
    column = [cell for row in rows if (cell := row.cells[period_id]).owed]
    firsts = [cell.latest.first_reported_at for cell in column if cell.latest is not None]
    on_time = count_before(firsts, due)
    return period_stats(
        period, due, owing=len(column), reported=len(firsts), on_time=on_time, past_due=now >= due
    )
