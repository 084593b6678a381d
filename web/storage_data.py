"""The dashboard's data (:class:`web.data.DashboardData`) over the storage API.

The only module of ``web`` that knows the tables. The overview page reads every unit as a plain
row and one latest report each for the chosen period (counts, filters), then the cells of the
page's units only; the full overview (charts) is
:func:`storage.read_models.overview` (every period of the plan, one row per unit, the latest
report per cell from the latest-report read model); an agency's page reads its latest reports
and at most :data:`HISTORY_SHOWN` history rows; indicators are read from the latest reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from bot.export import build_workbook
from documents.model import (
    ChartUnit,
    Direction,
    Indicator,
    PeriodCounts,
    ReportingState,
    StateMatrix,
)
from storage import login_links, people, plans, read_models, reports
from storage.database import Database
from storage.models import (
    FocalPoint,
    LatestReport,
    Plan,
    PlanStatus,
    PlanUnit,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
)
from storage.models import (
    Indicator as PlanIndicator,
)
from storage.read_models import PeriodStats
from storage.reports import LatestRow
from web.data import (
    AgencyDetail,
    Cell,
    ChartsInput,
    FocalPointInfo,
    HistoryEntry,
    IndicatorLine,
    Overview,
    OverviewRow,
    Period,
    PlanSummary,
    ReportFile,
    Unit,
    state_of,
)
from web.pages import PAGE_SIZE, OverviewPage, read_filters, unit_matches


class StorageDashboardData:
    """:class:`web.data.DashboardData` read from ``database``, one transaction per question."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def plans(self) -> list[PlanSummary]:
        return self._database.run_sync(_plans)

    def overview(self, plan_code: str, *, now: datetime) -> Overview | None:
        return self._database.run_sync(_overview, plan_code, now)

    def overview_page(
        self, plan_code: str, query: Mapping[str, str], *, now: datetime
    ) -> OverviewPage | None:
        return self._database.run_sync(_overview_page, plan_code, query, now)

    def agency(self, plan_code: str, unit_code: str, *, now: datetime) -> AgencyDetail | None:
        return self._database.run_sync(_agency, plan_code, unit_code, now)

    def report_file(self, status_update_id: int) -> ReportFile | None:
        return self._database.run_sync(_report_file, status_update_id)

    def charts(self, plan_code: str, *, now: datetime) -> ChartsInput | None:
        overview = self.overview(plan_code, now=now)
        return None if overview is None else charts_input(overview)

    def export(self, plan_code: str, *, now: datetime) -> bytes | None:
        def workbook(session: Session) -> bytes | None:
            plan = plans.plan_by_code(session, plan_code)
            return None if plan is None else build_workbook(session, plan=plan, now=now)

        return self._database.run_sync(workbook)


class DatabaseUsedLogins:
    """:class:`web.auth.UsedLogins` in the ``used_logins`` table: survives restarts."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def use(self, key: str, *, now: datetime, expires_at: datetime) -> bool:
        return self._database.run_sync(
            login_links.use_login, key=key, now=now, expires_at=expires_at
        )


def charts_input(overview: Overview) -> ChartsInput:
    """The reporting-rate bars and the heat map, from the overview."""
    periods = tuple(
        PeriodCounts.of(period.title, (row.cells[index].state for row in overview.rows))
        for index, period in enumerate(overview.periods)
    )
    matrix = StateMatrix.of(
        [ChartUnit(code=row.unit.code, label=row.unit.short_name) for row in overview.rows],
        [period.title for period in overview.periods],
        [[cell.state for cell in row.cells] for row in overview.rows],
    )
    return ChartsInput(periods=periods, matrix=matrix)


# --- reading ----------------------------------------------------------------------------------


def _summary(plan: Plan) -> PlanSummary:
    return PlanSummary(
        code=plan.code,
        number=plan.number,
        title=plan.title,
        issuer=plan.issuer,
        timezone=plan.timezone,
    )


HISTORY_SHOWN = 50


def _period(period: ReportingPeriod) -> Period:
    return Period(
        code=period.code,
        title=period.title,
        due_before=period.due_before,
        due_text=period.due_text,
    )


def _unit(unit: PlanUnit) -> Unit:
    return Unit(
        code=unit.code,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        section=unit.section,
    )


def _cell(
    latest: LatestReport | LatestRow | None, *, owed: bool, due_at: datetime, now: datetime
) -> Cell:
    first = latest.first_reported_at if latest is not None else None
    state = state_of(first_reported_at=first, due_at=due_at, now=now)
    if not owed:  # a period this unit does not owe never shows as missing
        state = state if latest is not None else ReportingState.NOT_DUE
    if latest is None:
        return Cell(state=state)
    status = ReportStatus(latest.status)
    return Cell(
        state=state,
        status=status.value,
        status_label=status.label,
        progress=latest.progress,
        first_reported_at=first,
        reported_at=latest.reported_at,
    )


def _plans(session: Session) -> list[PlanSummary]:
    """Active plans first (newest issued first), then the ones that ran; no drafts."""
    shown = [PlanStatus.ACTIVE, PlanStatus.ENDED, PlanStatus.ARCHIVED]
    ordered = sorted(plans.plans_in(session, shown), key=lambda p: p.status != PlanStatus.ACTIVE)
    return [_summary(plan) for plan in ordered]


def _indicators(session: Session, plan_id: int) -> tuple[Indicator, ...]:
    return tuple(_indicator(row) for row in plans.indicators(session, plan_id=plan_id))


def _indicator(row: PlanIndicator) -> Indicator:
    return Indicator(
        code=row.code,
        name=row.name,
        unit=row.unit,
        target=row.target,
        direction=Direction(row.direction),
    )


def _overview(session: Session, plan_code: str, now: datetime) -> Overview | None:
    plan = plans.plan_by_code(session, plan_code)
    if plan is None or plan.id is None or plan.status == PlanStatus.DRAFT:
        return None
    data = read_models.overview(session, plan=plan, now=now, limit=None)
    rows = tuple(
        OverviewRow(
            unit=_unit(row.unit),
            focal_points=row.focal_point_count,
            cells=tuple(_overview_cell(row.cells[_id(s.period.id)], s, now) for s in data.stats),
        )
        for row in data.rows
    )
    return Overview(
        plan=_summary(plan),
        as_of=now,
        periods=tuple(_period(p) for p in data.periods),
        rows=rows,
        indicators=_indicators(session, plan.id),
    )


# --- the overview page: one page of units read, every unit counted ----------------------------


class _UnitLine(NamedTuple):
    """A reporting unit as the filters see it (a plain row: a plan may have 10,000)."""

    organisation_id: int
    code: str
    name: str
    kind: str
    section: str


def _overview_page(
    session: Session, plan_code: str, query: Mapping[str, str], now: datetime
) -> OverviewPage | None:
    """The overview page the query asks for: the chosen period's counts over every unit and
    the filters applied to every unit (plain rows, one latest report each), then the cells of
    every period for the page's units only — the page :func:`web.pages.overview_page` makes
    of the full overview, without reading the full overview."""
    plan = plans.plan_by_code(session, plan_code)
    if plan is None or plan.id is None or plan.status == PlanStatus.DRAFT:
        return None
    every_period = plans.periods(session, plan_id=plan.id)
    lines = _unit_lines(session, plan.id)
    kinds = tuple(sorted({line.kind for line in lines}))
    head = Overview(
        plan=_summary(plan),
        as_of=now,
        periods=tuple(_period(p) for p in every_period),
        rows=(),
        indicators=_indicators(session, plan.id),
    )
    filters = read_filters(query, head, kinds=kinds)
    chosen = every_period[filters.period] if every_period else None
    standings = _standings(session, plan, chosen, lines, now)
    selected = [
        line
        for line, standing in zip(lines, standings, strict=True)
        if unit_matches(line.kind, line.code, line.name, standing, filters)
    ]
    pages = max(1, -(-len(selected) // PAGE_SIZE))
    number = min(filters.page, pages)
    shown = selected[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    rows = _page_rows(session, plan, every_period, shown, now)
    counted = [standing[0] for standing in standings if standing is not None]
    return OverviewPage(
        overview=replace(head, rows=rows),
        filters=replace(filters, page=number),
        counts=PeriodCounts.of(chosen.title if chosen else "", counted),
        rows=rows,
        matching=len(selected),
        pages=pages,
        kinds=kinds,
    )


def _unit_lines(session: Session, plan_id: int) -> list[_UnitLine]:
    """The plan's reporting units in plan order, as plain rows."""
    u = PlanUnit.__table__.c  # type: ignore[attr-defined]
    statement: Any = (
        sa.select(u.organisation_id, u.code, u.name, u.kind, u.section)
        .where(u.plan_id == plan_id, u.active.is_(True), u.is_coordinator.is_(False))
        .order_by(u.position, u.id)
    )
    return [_UnitLine(*row) for row in session.connection().execute(statement)]


def _standings(
    session: Session,
    plan: Plan,
    period: ReportingPeriod | None,
    lines: Sequence[_UnitLine],
    now: datetime,
) -> list[tuple[ReportingState, str | None] | None]:
    """Each unit's state and latest status for ``period`` (as :func:`_cell` decides them)."""
    if period is None or period.id is None or plan.id is None:
        return [None] * len(lines)
    due = plans.due_at(period.due_before, ZoneInfo(plan.timezone))
    latest = {
        row.organisation_id: (row.status, row.first_reported_at)
        for row in reports.latest_report_rows(session, plan_id=plan.id, period_ids=[period.id])
    }
    refs = plans.owed_by(period)
    missing = ReportingState.MISSING if now >= due else ReportingState.NOT_DUE
    standings: list[tuple[ReportingState, str | None] | None] = []
    for line in lines:
        found = latest.get(line.organisation_id)
        if found is not None:
            on_time = found[1] < due
            standings.append((ReportingState.ON_TIME if on_time else ReportingState.LATE, found[0]))
        elif refs is None or line.code in refs or line.section in refs:
            standings.append((missing, None))
        else:  # a period this unit does not owe never shows as missing
            standings.append((ReportingState.NOT_DUE, None))
    return standings


def _page_rows(
    session: Session,
    plan: Plan,
    every_period: Sequence[ReportingPeriod],
    shown: Sequence[_UnitLine],
    now: datetime,
) -> tuple[OverviewRow, ...]:
    """The page's units with a cell for every period."""
    assert plan.id is not None
    wanted = [line.organisation_id for line in shown]
    u = PlanUnit.__table__.c  # type: ignore[attr-defined]
    statement: Any = sa.select(PlanUnit).where(u.plan_id == plan.id, u.organisation_id.in_(wanted))
    units = {unit.organisation_id: unit for unit in session.execute(statement).scalars()}
    latest = {
        (row.organisation_id, row.period_id): row
        for row in reports.latest_report_rows(
            session,
            plan_id=plan.id,
            period_ids=[_id(p.id) for p in every_period],
            organisation_ids=wanted,
        )
    }
    focal = people.focal_point_counts(session, plan_id=plan.id, organisation_ids=wanted)
    zone = ZoneInfo(plan.timezone)
    dues = [plans.due_at(p.due_before, zone) for p in every_period]
    owers = [plans.owed_by(p) for p in every_period]  # as plans.owes, read once per period
    return tuple(
        OverviewRow(
            unit=_unit(units[organisation_id]),
            focal_points=focal.get(organisation_id, 0),
            cells=tuple(
                _cell(
                    latest.get((organisation_id, _id(p.id))),
                    owed=_owes(refs, units[organisation_id]),
                    due_at=due,
                    now=now,
                )
                for p, due, refs in zip(every_period, dues, owers, strict=True)
            ),
        )
        for organisation_id in wanted
    )


def _owes(refs: Sequence[str] | None, unit: PlanUnit) -> bool:
    """storage.plans.owes with the period's references read once."""
    if unit.is_coordinator:
        return False
    return refs is None or unit.code in refs or unit.section in refs


def _overview_cell(cell: read_models.Cell, stats: PeriodStats, now: datetime) -> Cell:
    return _cell(cell.latest, owed=cell.owed, due_at=stats.due_at, now=now)


def _agency(session: Session, plan_code: str, unit_code: str, now: datetime) -> AgencyDetail | None:
    plan = plans.plan_by_code(session, plan_code)
    if plan is None or plan.id is None or plan.status == PlanStatus.DRAFT:
        return None
    unit = plans.unit_by_code(session, plan_id=plan.id, code=unit_code)
    if unit is None:
        return None
    periods = plans.periods(session, plan_id=plan.id)
    latest = {
        row.period_id: row
        for row in reports.latest_reports(
            session, plan_id=plan.id, organisation_id=unit.organisation_id
        )
    }
    zone = ZoneInfo(plan.timezone)
    cells = tuple(
        _cell(
            latest.get(_id(p.id)),
            owed=plans.owes(p, unit),
            due_at=plans.due_at(p.due_before, zone),
            now=now,
        )
        for p in periods
    )
    history = reports.status_history(
        session, organisation_id=unit.organisation_id, plan_id=plan.id, limit=HISTORY_SHOWN
    )
    focal_points = people.focal_points_of(
        session, organisation_ids=[unit.organisation_id], plan_id=plan.id
    )
    return AgencyDetail(
        plan=_summary(plan),
        as_of=now,
        unit=_unit(unit),
        periods=tuple(_period(p) for p in periods),
        cells=cells,
        focal_points=_focal_points(session, focal_points),
        history=_history(history, periods, {fp.id: fp.full_name for fp in focal_points}),
        indicators=_indicator_lines(session, plan.id, unit, periods),
    )


def _indicator_lines(
    session: Session, plan_id: int, unit: PlanUnit, periods: Sequence[ReportingPeriod]
) -> tuple[IndicatorLine, ...]:
    """Each indicator the unit reports, per period it is asked in, with the value it gave."""
    values = {
        (row.indicator_id, row.period_id): row.value
        for row in reports.latest_indicator_values(
            session, plan_id=plan_id, organisation_id=unit.organisation_id
        )
    }
    return tuple(
        IndicatorLine(
            indicator=_indicator(indicator),
            period_title=period.title,
            value=values.get((indicator.id, period.id)),
        )
        for indicator in plans.indicators(session, plan_id=plan_id)
        for period in periods
        if plans.indicator_applies(indicator, unit, period) and (indicator.id, period.id) in values
    )


def _focal_points(
    session: Session, focal_points: Sequence[FocalPoint]
) -> tuple[FocalPointInfo, ...]:
    accounts = people.accounts_of(
        session, focal_point_ids=[_id(fp.id) for fp in focal_points], reachable_only=False
    )
    return tuple(
        FocalPointInfo(
            full_name=fp.full_name,
            position=fp.position,
            phone=fp.phone,
            channels=tuple(a.channel for a in accounts if a.focal_point_id == fp.id),
            registered_at=fp.registered_at,
        )
        for fp in focal_points
    )


def _history(
    history: Sequence[StatusUpdate],
    periods: Sequence[ReportingPeriod],
    names: dict[int | None, str],
) -> tuple[HistoryEntry, ...]:
    titles = {p.id: p.title for p in periods}
    return tuple(
        HistoryEntry(
            update_id=_id(update.id),
            period_title=titles.get(update.period_id, ""),
            status_label=ReportStatus(update.status).label,
            progress=update.progress,
            note=update.note,
            reported_at=update.created_at,
            channel=update.channel,
            reported_by=names.get(update.focal_point_id),
            file_name=(update.file_name or "tệp") if update.file_id else None,
        )
        for update in history
    )


def _report_file(session: Session, status_update_id: int) -> ReportFile | None:
    update = reports.status_update_by_id(session, status_update_id)
    if update is None or not update.file_id or not update.file_channel:
        return None
    plan = session.get(Plan, update.plan_id)
    if plan is None:
        return None
    return ReportFile(
        plan_code=plan.code,
        file_name=update.file_name or f"tep-{status_update_id}",
        channel=update.file_channel,
        file_id=update.file_id,
    )


def _id(value: int | None) -> int:
    assert value is not None, "a row read from the database has an id"
    return value
