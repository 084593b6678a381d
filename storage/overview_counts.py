"""The overview of a large plan read as counts: no ORM object and no cell per unit.

A plan of 10,000 units has 60,000 cells in its six visible periods; the chat shows their totals
and one page of 20 units. :func:`overview_totals` counts in SQL — the units grouped by kind,
section and (where a period names units by code) code, the latest reports grouped the same way
per period — and decides who owes a period once per group, as :func:`storage.plans.owes` does
per unit. :func:`unit_count` and :func:`unit_page` pick the units in focus (overdue for a past
period, reporting a problem, or every unit) in SQL; :func:`overview_rows` builds the cells of
those units only. :func:`storage.read_models.overview` stays the full matrix (the small plan's
matrix, the dashboard's charts; the export reads plain rows, :mod:`storage.export_rows`);
:func:`storage.read_models.totals_of` gives the same counts from it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import Plan, PlanUnit, ReportingPeriod, ReportStatus
from storage.people import focal_point_counts
from storage.plans import due_at, owed_by, periods
from storage.read_models import (
    OVERVIEW_AHEAD,
    VISIBLE_PERIODS,
    Overview,
    OverviewRow,
    PeriodStats,
    Totals,
    build_overview,
    period_stats,
    visible_periods,
)
from storage.reports import LATEST, latest_report_rows

UNITS = PlanUnit.__table__  # type: ignore[attr-defined]

Group = tuple[str, str, str | None]  # kind, section, the code when a period names it


def overview_totals(
    session: Session,
    *,
    plan: Plan,
    now: datetime,
    kinds: Collection[str] = (),
    limit: int | None = VISIBLE_PERIODS,
) -> Totals:
    """The counts of :func:`storage.read_models.overview` for the units of ``kinds`` (every
    kind when empty): each shown period's totals, and the reporting units by kind."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    shown = periods(session, plan_id=plan.id)
    if limit is not None:
        shown = visible_periods(shown, now=now, zone=zone, limit=limit, ahead=OVERVIEW_AHEAD)
    listed = _listed_codes(shown)
    units, order = _unit_groups(session, plan.id, kinds, listed)
    reports = _report_groups(session, plan.id, shown, zone, kinds, listed)
    stats = [
        _stats(period, due_at(period.due_before, zone), now, units, reports.get(period.id, {}))
        for period in shown
    ]
    by_kind: dict[str, int] = {}
    for (kind, _, _), count in sorted(units.items(), key=lambda item: order[item[0]]):
        by_kind[kind] = by_kind.get(kind, 0) + count
    return Totals(plan=plan, now=now, periods=shown, stats=stats, kinds=by_kind)


def _listed_codes(shown: Sequence[ReportingPeriod]) -> list[str]:
    """Every reference a shown period names (a unit code or a section of the plan)."""
    return sorted({ref for period in shown for ref in owed_by(period) or []})


def _owes(period: ReportingPeriod, group: Group) -> bool:
    """storage.plans.owes for every (reporting) unit of ``group``."""
    refs = owed_by(period)
    _, section, code = group
    return refs is None or section in refs or (code is not None and code in refs)


def _group_columns(listed: Sequence[str]) -> list[Any]:
    u = UNITS.c
    columns: list[Any] = [u.kind, u.section]
    if listed:  # a code only where some period names it: few groups, whatever the plan's size
        columns.append(sa.case((u.code.in_(listed), u.code), else_=sa.null()))
    return columns


def _reporting(kinds: Collection[str]) -> list[Any]:
    u = UNITS.c
    conditions = [u.active.is_(True), u.is_coordinator.is_(False)]
    if kinds:
        conditions.append(u.kind.in_(sorted(kinds)))
    return conditions


def _group(row: Sequence[Any], listed: Sequence[str]) -> Group:
    return (row[0], row[1], row[2] if listed else None)


def _unit_groups(
    session: Session, plan_id: int, kinds: Collection[str], listed: Sequence[str]
) -> tuple[dict[Group, int], dict[Group, tuple[int, int]]]:
    """How many reporting units each group has, and where its first unit stands in the plan."""
    u = UNITS.c
    keys = _group_columns(listed)
    statement: Any = (
        sa.select(*keys, sa.func.count(), sa.func.min(u.position), sa.func.min(u.id))
        .where(u.plan_id == plan_id, *_reporting(kinds))
        .group_by(*keys)
    )
    counts: dict[Group, int] = {}
    order: dict[Group, tuple[int, int]] = {}
    for row in session.connection().execute(statement):
        group = _group(row, listed)
        counts[group] = row[len(keys)]
        order[group] = (row[len(keys) + 1], row[len(keys) + 2])
    return counts, order


def _report_groups(
    session: Session,
    plan_id: int,
    shown: Sequence[ReportingPeriod],
    zone: ZoneInfo,
    kinds: Collection[str],
    listed: Sequence[str],
) -> dict[int | None, dict[Group, tuple[int, int]]]:
    """Per period and group: the latest reports, and how many came first before the due date."""
    if not shown:
        return {}
    lr, u = LATEST.c, UNITS.c
    on_time = sa.case(
        *[
            (sa.and_(lr.period_id == p.id, lr.first_reported_at < due_at(p.due_before, zone)), 1)
            for p in shown
        ],
        else_=0,
    )
    keys = [lr.period_id, *_group_columns(listed)]
    statement: Any = (
        sa.select(*keys, sa.func.count(), sa.func.sum(on_time))
        .select_from(
            LATEST.join(
                UNITS, sa.and_(u.plan_id == lr.plan_id, u.organisation_id == lr.organisation_id)
            )
        )
        .where(lr.plan_id == plan_id, lr.period_id.in_([p.id for p in shown]), *_reporting(kinds))
        .group_by(*keys)
    )
    groups: dict[int | None, dict[Group, tuple[int, int]]] = {}
    for row in session.connection().execute(statement):
        group = _group(row[1:], listed)
        groups.setdefault(row[0], {})[group] = (row[len(keys)], int(row[len(keys) + 1] or 0))
    return groups


def _stats(
    period: ReportingPeriod,
    due: datetime,
    now: datetime,
    units: dict[Group, int],
    reports: dict[Group, tuple[int, int]],
) -> PeriodStats:
    owing = [group for group in units if _owes(period, group)]
    total = sum(units[group] for group in owing)
    reported = sum(reports.get(group, (0, 0))[0] for group in owing)
    on_time = sum(reports.get(group, (0, 0))[1] for group in owing)
    return period_stats(
        period, due, owing=total, reported=reported, on_time=on_time, past_due=now >= due
    )


# --- the units in focus -------------------------------------------------------------------------


def _owes_clause(period: ReportingPeriod) -> Any:
    """storage.plans.owes as SQL over a reporting unit's row."""
    refs = owed_by(period)
    if refs is None:
        return sa.true()
    if not refs:
        return sa.false()
    return sa.or_(UNITS.c.code.in_(refs), UNITS.c.section.in_(refs))


def _has_report(period_id: int | None) -> Any:
    lr, u = LATEST.c, UNITS.c
    return sa.exists().where(
        lr.plan_id == u.plan_id, lr.organisation_id == u.organisation_id, lr.period_id == period_id
    )


def _blocked_organisations(totals: Totals) -> Any:
    """The organisations whose latest report for a shown period is a problem (few: read
    through the index on the reports' status, once, not once per unit)."""
    lr = LATEST.c
    return sa.select(lr.organisation_id).where(
        lr.plan_id == totals.plan.id,
        lr.status == ReportStatus.BLOCKED.value,
        lr.period_id.in_([p.id for p in totals.periods]),
    )


def _focus_clause(session: Session, totals: Totals, *, overdue: bool, blocked: bool) -> Any:
    """Units overdue for a shown past period and/or reporting a problem in a shown period
    (neither: every unit). The units reporting a problem are read first (a few, through the
    status index) and named: no query plan can then join them once per unit."""
    if not overdue and not blocked:
        return sa.true()
    clauses = []
    if overdue:
        # The latest deadline first: SQL stops at the first period a unit is overdue for, and
        # the one just past is the likeliest (each period asked costs a look-up per unit).
        clauses += [
            sa.and_(_owes_clause(s.period), ~_has_report(s.period.id))
            for s in sorted(totals.stats, key=lambda stats: stats.due_at, reverse=True)
            if totals.now >= s.due_at
        ]
    if blocked and totals.periods:
        stuck = [row[0] for row in session.connection().execute(_blocked_organisations(totals))]
        if stuck:
            clauses.append(UNITS.c.organisation_id.in_(sorted(set(stuck))))
    return sa.or_(*clauses) if clauses else sa.false()


def _where(totals: Totals, kinds: Collection[str]) -> list[Any]:
    return [UNITS.c.plan_id == totals.plan.id, *_reporting(kinds)]


def unit_count(
    session: Session, totals: Totals, *, kinds: Collection[str], overdue: bool, blocked: bool
) -> int:
    """How many reporting units of ``kinds`` are in focus (see :func:`_focus_clause`)."""
    statement: Any = sa.select(sa.func.count()).where(
        *_where(totals, kinds), _focus_clause(session, totals, overdue=overdue, blocked=blocked)
    )
    return int(session.connection().execute(statement).scalar_one())


def unit_page(
    session: Session,
    totals: Totals,
    *,
    kinds: Collection[str],
    overdue: bool,
    blocked: bool,
    offset: int,
    limit: int,
) -> list[PlanUnit]:
    """The units in focus from ``offset`` on, at most ``limit``, in plan order."""
    statement: Any = (
        sa.select(PlanUnit)
        .where(
            *_where(totals, kinds), _focus_clause(session, totals, overdue=overdue, blocked=blocked)
        )
        .order_by(UNITS.c.position, UNITS.c.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.execute(statement).scalars())


def focused_organisations(
    session: Session, totals: Totals, *, kinds: Collection[str], overdue: bool, blocked: bool
) -> list[int]:
    """The organisation ids of the units in focus, in plan order: one pass that gives both
    their number and any page of them (plain integers, however many)."""
    statement: Any = (
        sa.select(UNITS.c.organisation_id)
        .where(
            *_where(totals, kinds), _focus_clause(session, totals, overdue=overdue, blocked=blocked)
        )
        .order_by(UNITS.c.position, UNITS.c.id)
    )
    return list(session.connection().execute(statement).scalars())


def units_of(session: Session, totals: Totals, organisation_ids: Sequence[int]) -> list[PlanUnit]:
    """The plan's units of ``organisation_ids``, in that order."""
    if not organisation_ids:
        return []
    statement: Any = sa.select(PlanUnit).where(
        UNITS.c.plan_id == totals.plan.id, UNITS.c.organisation_id.in_(list(organisation_ids))
    )
    found = {unit.organisation_id: unit for unit in session.execute(statement).scalars()}
    return [found[organisation_id] for organisation_id in organisation_ids]


def overview_rows(session: Session, totals: Totals, units: Sequence[PlanUnit]) -> list[OverviewRow]:
    """The cells of ``units`` in the shown periods (a page of them, not the plan's every unit)."""
    plan_id = totals.plan.id
    assert plan_id is not None
    organisation_ids = [unit.organisation_id for unit in units]
    latest = latest_report_rows(
        session,
        plan_id=plan_id,
        period_ids=[p.id for p in totals.periods if p.id is not None],
        organisation_ids=organisation_ids,
    )
    return build_overview(
        plan=totals.plan,
        now=totals.now,
        periods=totals.periods,
        units=units,
        latest={(row.organisation_id, row.period_id): row for row in latest},
        focal_points=focal_point_counts(
            session, plan_id=plan_id, organisation_ids=organisation_ids
        ),
    ).rows


def full_overview(session: Session, totals: Totals) -> Overview:
    """Every unit of ``totals``' kinds with its cells (a plan small enough to show them all)."""
    if not totals.kinds:  # no unit of the kinds asked for (an empty filter would be all)
        return Overview(totals.plan, totals.now, totals.periods, rows=[], stats=totals.stats)
    units = unit_page(
        session,
        totals,
        kinds=list(totals.kinds),
        overdue=False,
        blocked=False,
        offset=0,
        limit=max(totals.units, 1),
    )
    rows = overview_rows(session, totals, units)
    return Overview(
        plan=totals.plan, now=totals.now, periods=totals.periods, rows=rows, stats=totals.stats
    )


# --- the problems reported ----------------------------------------------------------------------


def _blocked_query(totals: Totals, kinds: Collection[str]) -> Any:
    lr, u = LATEST.c, UNITS.c
    return (
        LATEST.join(
            UNITS, sa.and_(u.plan_id == lr.plan_id, u.organisation_id == lr.organisation_id)
        ),
        [
            lr.plan_id == totals.plan.id,
            lr.period_id.in_([p.id for p in totals.periods]),
            lr.status == ReportStatus.BLOCKED.value,
            *_reporting(kinds),
        ],
    )


def blocked_count(session: Session, totals: Totals, *, kinds: Collection[str]) -> int:
    """How many (unit, shown period) latest reports say the unit is stuck."""
    if not totals.periods:
        return 0
    joined, conditions = _blocked_query(totals, kinds)
    statement: Any = sa.select(sa.func.count()).select_from(joined).where(*conditions)
    return int(session.connection().execute(statement).scalar_one())


def blocked_page(
    session: Session, totals: Totals, *, kinds: Collection[str], offset: int, limit: int
) -> list[tuple[PlanUnit, int, int]]:
    """The problems reported from ``offset`` on, at most ``limit``, in plan order then period
    order: (unit, the period's 1-based number among the shown, its id)."""
    if not totals.periods:
        return []
    lr, u = LATEST.c, UNITS.c
    number = sa.case(
        *[(lr.period_id == p.id, index) for index, p in enumerate(totals.periods, start=1)]
    )
    joined, conditions = _blocked_query(totals, kinds)
    statement: Any = (
        sa.select(PlanUnit, number, lr.period_id)
        .select_from(joined)
        .where(*conditions)
        .order_by(u.position, u.id, number)
        .offset(offset)
        .limit(limit)
    )
    return [(unit, n, period_id) for unit, n, period_id in session.execute(statement)]
