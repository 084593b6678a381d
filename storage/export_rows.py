"""The whole plan as the Excel export shows it, read as plain rows: every reporting unit against
every period, the focal points, the units' short names by section.

:func:`storage.read_models.overview` builds an ORM object per unit and a cell per (unit, period)
with its report's times parsed: 4.5 s for 10,000 units × 36 periods, before a sheet is written.
The export only writes values out, so here the latest reports stay the driver's tuples (their
first time as UTC text, as :func:`storage.reports.history_rows` gives it), the units are tuples,
and who owes which period is decided once per kind of unit. The rules — who owes a period, what
counts as on time, a period's totals — are :mod:`storage.read_models`' own, shared, so the
workbook says what ``/tonghop`` says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import (
    ChannelAccount,
    FocalPoint,
    MembershipState,
    Plan,
    PlanMembership,
    PlanUnit,
    ReportingPeriod,
)
from storage.plans import due_at, periods
from storage.read_models import (
    Owers,
    PeriodStats,
    count_before,
    owed_columns,
    owers,
    period_stats,
)
from storage.reports import LATEST, driver_rows, utc_text

# A latest report: organisation id, period id, status (the ReportStatus value), progress, and
# when the first report came as naive UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
ReportRow = tuple[int, int, str, int, str]
# A due instant as that text, compared with it as text. Without the fraction: a first report
# at the due instant itself ("….000000", or no fraction at all) is not before it (late), one a
# microsecond earlier is.
UTC_TEXT = "%Y-%m-%d %H:%M:%S"


class GridUnit(NamedTuple):
    """A reporting unit as the overview sheet shows it."""

    organisation_id: int
    code: str
    name: str
    short_name: str
    section: str
    focal_points: int  # active focal points who joined the plan


@dataclass(frozen=True)
class GridColumn:
    """A period: its totals, who owes it, and the latest reports for it by unit."""

    stats: PeriodStats
    past_due: bool
    due_text: str  # the due instant as UTC text: a first report before it is on time
    owed: tuple[bool, ...]  # whether the i-th unit owes the period
    reports: dict[int, ReportRow]  # the i-th unit's latest report, by i


@dataclass(frozen=True)
class Grid:
    """Every reporting unit against every period of the plan, a column a period."""

    plan: Plan
    now: datetime
    units: list[GridUnit]
    columns: list[GridColumn]


def reporting_grid(
    session: Session, *, plan: Plan, now: datetime, people: Iterable[PersonRow]
) -> Grid:
    """The reporting grid of ``plan`` at ``now``: every reporting unit, every period; the
    units' focal points counted from ``people`` (:func:`focal_point_rows`: those
    storage.people.focal_point_counts counts, read once for the grid and the people's sheet;
    that count's 10,000 organisation ids took PostgreSQL 0.12 s to bind)."""
    assert plan.id is not None
    units = _reporting_units(session, plan.id)
    counts = Counter(person.organisation_id for person in people)
    return build_grid(
        plan=plan,
        now=now,
        periods=periods(session, plan_id=plan.id),
        units=[GridUnit(*unit, counts.get(unit[0], 0)) for unit in units],
        reports=_latest_report_rows(session, plan.id),
    )


def build_grid(
    *,
    plan: Plan,
    now: datetime,
    periods: Sequence[ReportingPeriod],
    units: Sequence[GridUnit],
    reports: Iterable[ReportRow],
) -> Grid:
    """The grid of ``units`` against ``periods`` (a pure function): who owes what, each
    period's reports and totals, counted as :func:`storage.read_models.build_overview` does."""
    zone = ZoneInfo(plan.timezone)
    row_of = {unit.organisation_id: index for index, unit in enumerate(units)}
    by_period: dict[int, dict[int, ReportRow]] = {p.id: {} for p in periods if p.id is not None}
    for report in reports:  # a coordinator's or an inactive unit's report has no row
        column, row = by_period.get(report[1]), row_of.get(report[0])
        if column is not None and row is not None:
            column[row] = report
    owed = _owed_rows(units, [owers(period) for period in periods])
    owing = list(zip(*owed, strict=True)) if units else [()] * len(periods)  # by period
    columns = [
        _column(period, by_period[period.id or 0], column_owed, zone, now)
        for period, column_owed in zip(periods, owing, strict=True)
    ]
    return Grid(plan=plan, now=now, units=list(units), columns=columns)


def _owed_rows(units: Sequence[GridUnit], columns: Sequence[Owers]) -> list[tuple[bool, ...]]:
    """Each unit's owed periods, decided once per section for the units no period names by
    code (all but a few: 10,000 rows of 36 periods made from a handful)."""
    named = set().union(*(refs for refs in columns if refs is not None))
    known: dict[tuple[str, str], tuple[bool, ...]] = {}
    rows = []
    for unit in units:
        key = (unit.code if unit.code in named else "", unit.section)
        row = known.get(key)
        if row is None:
            row = known[key] = owed_columns(
                columns, code=unit.code, section=unit.section, coordinator=False
            )
        rows.append(row)
    return rows


def _column(
    period: ReportingPeriod,
    reports: dict[int, ReportRow],
    owed: tuple[bool, ...],
    zone: ZoneInfo,
    now: datetime,
) -> GridColumn:
    due = due_at(period.due_before, zone)
    due_text = due.astimezone(UTC).strftime(UTC_TEXT)
    firsts = [report[4] for row, report in reports.items() if owed[row]]
    past_due, on_time = now >= due, count_before(firsts, due_text)
    stats = period_stats(
        period, due, owing=sum(owed), reported=len(firsts), on_time=on_time, past_due=past_due
    )
    return GridColumn(stats, past_due=past_due, due_text=due_text, owed=owed, reports=reports)


UNITS = PlanUnit.__table__  # type: ignore[attr-defined]


def _reporting_units(session: Session, plan_id: int) -> list[tuple[int, str, str, str, str]]:
    """The plan's reporting units in plan order (storage.plans.units, reporting only): id,
    code, name, short name, section."""
    u = UNITS.c
    statement: Any = (
        sa.select(u.organisation_id, u.code, u.name, u.short_name, u.section)
        .where(u.plan_id == plan_id, u.active.is_(True), u.is_coordinator.is_(False))
        .order_by(u.position, u.id)
    )
    return [tuple(row) for row in session.connection().execute(statement)]


def _latest_report_rows(session: Session, plan_id: int) -> list[ReportRow]:
    """Every latest report of the plan with its first time as UTC text, the driver's own tuples
    (SQLAlchemy's rows and a datetime each took 1.6 s of 160,000)."""
    connection = session.connection()
    lr = LATEST.c
    first = utc_text(lr.first_reported_at, connection)
    statement = sa.select(lr.organisation_id, lr.period_id, lr.status, lr.progress, first).where(
        lr.plan_id == int(plan_id)
    )
    return list(driver_rows(connection, statement))


# --- the focal points and the units by section --------------------------------------------------


class PersonRow(NamedTuple):
    """A focal point of the plan as the "Đầu mối" sheet shows it."""

    focal_point_id: int
    organisation_id: int
    code: str
    unit_name: str
    full_name: str
    position: str
    phone: str
    registered_at: str  # naive UTC text (utc_text)


def focal_point_rows(session: Session, *, plan_id: int) -> list[PersonRow]:
    """The active focal points who joined the plan, of its active units, by id: one joined read
    (storage.people.focal_points_of of storage.plans.units)."""
    u, fp, pm = UNITS.c, FocalPoint, PlanMembership
    registered = utc_text(col(fp.registered_at), session.connection())
    person = [col(fp.full_name), col(fp.position), col(fp.phone), registered]
    statement: Any = (
        sa.select(col(fp.id), col(fp.organisation_id), u.code, u.name, *person)
        .join(UNITS, sa.and_(u.plan_id == plan_id, u.organisation_id == fp.organisation_id))
        .join(pm, sa.and_(col(pm.focal_point_id) == fp.id, col(pm.plan_id) == plan_id))
        .where(
            u.active.is_(True),
            col(fp.active).is_(True),
            col(pm.state) == MembershipState.JOINED.value,
        )
        .order_by(col(fp.id))
    )
    return [PersonRow(*row) for row in session.connection().execute(statement)]


def channels_by_focal_point(session: Session, *, plan_id: int) -> dict[int, list[str]]:
    """The channels of every account of the plan's joined focal points, in the accounts' order
    (blocked ones too)."""
    joined = sa.select(col(PlanMembership.focal_point_id)).where(
        col(PlanMembership.plan_id) == plan_id,
        col(PlanMembership.state) == MembershipState.JOINED.value,
    )
    statement: Any = (
        sa.select(col(ChannelAccount.focal_point_id), col(ChannelAccount.channel))
        .where(col(ChannelAccount.focal_point_id).in_(joined))
        .order_by(col(ChannelAccount.id))
    )
    channels: dict[int, list[str]] = {}
    for focal_point_id, channel in session.connection().execute(statement):
        channels.setdefault(focal_point_id, []).append(channel)
    return channels


def short_names_by_section(session: Session, *, plan_id: int) -> dict[str, list[str]]:
    """The short names of the plan's active units (the coordinator too) by section, in plan
    order."""
    u = UNITS.c
    statement: Any = (
        sa.select(u.section, u.short_name)
        .where(u.plan_id == plan_id, u.active.is_(True))
        .order_by(u.position, u.id)
    )
    names: dict[str, list[str]] = {}
    for section, short_name in session.connection().execute(statement):
        names.setdefault(section, []).append(short_name)
    return names
