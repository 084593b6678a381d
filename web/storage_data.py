"""The dashboard's data (:class:`web.data.DashboardData`) over today's storage API.

The only module of ``web`` that knows the tables: a new data model replaces this file. Plans
have deadlines (the reporting periods) and agencies (the units); the overview is
:func:`storage.read_models.overview`. Format 1 plans have no indicators, so none are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.export import build_workbook
from documents.model import ChartUnit, PeriodCounts, StateMatrix
from storage import login_links, people, plans, read_models, reports
from storage.database import Database
from storage.formats import fmt_date
from storage.models import Agency, Deadline, FocalPoint, Plan, ReportStatus, StatusUpdate
from web.data import (
    AgencyDetail,
    Cell,
    ChartsInput,
    FocalPointInfo,
    HistoryEntry,
    Overview,
    OverviewRow,
    Period,
    PlanSummary,
    ReportFile,
    Unit,
    state_of,
)


class StorageDashboardData:
    """:class:`web.data.DashboardData` read from ``database``, one transaction per question."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def plans(self) -> list[PlanSummary]:
        return self._database.run_sync(_plans)

    def overview(self, plan_code: str, *, now: datetime) -> Overview | None:
        return self._database.run_sync(_overview, plan_code, now)

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


def _period(deadline: Deadline) -> Period:
    return Period(
        code=deadline.code,
        title=deadline.title,
        due_before=deadline.due_before,
        due_text=f"trước ngày {fmt_date(deadline.due_before)}",
    )


def _unit(agency: Agency) -> Unit:
    return Unit(
        code=agency.code,
        name=agency.name,
        short_name=agency.short_name,
        kind=agency.kind,
        section=agency.section,
    )


def _cell(
    latest: StatusUpdate | None, first: datetime | None, *, due_at: datetime, now: datetime
) -> Cell:
    state = state_of(first_reported_at=first, due_at=due_at, now=now)
    if latest is None:
        return Cell(state=state)
    status = ReportStatus(latest.status)
    return Cell(
        state=state,
        status=status.value,
        status_label=status.label,
        progress=latest.progress,
        first_reported_at=first,
        reported_at=latest.created_at,
    )


def _plans(session: Session) -> list[PlanSummary]:
    rows = session.exec(select(Plan).order_by(col(Plan.loaded_at).desc(), col(Plan.id).desc()))
    return [_summary(plan) for plan in rows]


def _overview(session: Session, plan_code: str, now: datetime) -> Overview | None:
    plan = plans.plan_by_code(session, plan_code)
    if plan is None:
        return None
    data = read_models.overview(session, plan=plan, now=now)
    zone = ZoneInfo(plan.timezone)
    dues = [(_id(d.id), plans.due_at(d.due_before, zone)) for d in data.deadlines]
    rows = tuple(
        OverviewRow(
            unit=_unit(row.agency),
            focal_points=row.focal_point_count,
            cells=tuple(
                _cell(
                    row.cells[deadline_id].latest,
                    row.cells[deadline_id].first_reported_at,
                    due_at=due,
                    now=now,
                )
                for deadline_id, due in dues
            ),
        )
        for row in data.rows
    )
    return Overview(
        plan=_summary(plan),
        as_of=now,
        periods=tuple(_period(d) for d in data.deadlines),
        rows=rows,
    )


def _agency(session: Session, plan_code: str, unit_code: str, now: datetime) -> AgencyDetail | None:
    plan = plans.plan_by_code(session, plan_code)
    if plan is None or plan.id is None:
        return None
    agency = plans.agency_by_code(session, plan_id=plan.id, code=unit_code)
    if agency is None or agency.id is None:
        return None
    deadlines = plans.deadlines(session, plan_id=plan.id)
    history = reports.status_history(session, agency_id=agency.id)  # newest first
    latest: dict[int, StatusUpdate] = {}
    first: dict[int, datetime] = {}
    for update in history:
        latest.setdefault(update.deadline_id, update)
        first[update.deadline_id] = update.created_at  # the oldest comes last
    zone = ZoneInfo(plan.timezone)
    cells = tuple(
        _cell(
            latest.get(_id(d.id)),
            first.get(_id(d.id)),
            due_at=plans.due_at(d.due_before, zone),
            now=now,
        )
        for d in deadlines
    )
    focal_points = people.focal_points_of(session, agency_ids=[agency.id])
    return AgencyDetail(
        plan=_summary(plan),
        as_of=now,
        unit=_unit(agency),
        periods=tuple(_period(d) for d in deadlines),
        cells=cells,
        focal_points=_focal_points(session, focal_points),
        history=_history(history, deadlines, {fp.id: fp.full_name for fp in focal_points}),
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
    deadlines: Sequence[Deadline],
    names: dict[int | None, str],
) -> tuple[HistoryEntry, ...]:
    titles = {d.id: d.title for d in deadlines}
    return tuple(
        HistoryEntry(
            update_id=_id(update.id),
            period_title=titles.get(update.deadline_id, ""),
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
    agency = plans.agency_by_id(session, update.agency_id)
    plan = session.get(Plan, agency.plan_id) if agency is not None else None
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
