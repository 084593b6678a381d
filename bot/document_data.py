"""The database's read models as the input of the output documents (:mod:`documents`).

The documents package is pure (plain dataclasses in, bytes out); this module fills its types
from the overview (or, for the Excel export, its plain grid, :mod:`storage.export_rows`), the
plan and the reports, for the Excel export, the charts and the consolidated report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from documents import model as doc
from documents.model import ChartUnit, PeriodCounts, ReportingState, StateMatrix
from storage import plans, reports
from storage.export_rows import Grid, GridColumn
from storage.indicator_standing import Standing
from storage.models import (
    Indicator,
    LatestReport,
    Plan,
    PlanUnit,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
)
from storage.read_models import Cell, Moment, Overview, PeriodStats

PERIOD_LABEL_LIMIT = 40
SHARED_SECTION_PREFIX = "II."  # the plan's shared tasks (storage.plans.cross_cutting_tasks)


def received_state(first: Moment | None, *, before: Moment, past_due: bool) -> ReportingState:
    """On time when the first report came before the due instant ``before``; late after it;
    missing when the deadline has passed without one; not due before it (a pure function of
    datetimes, or of the database's UTC text in the export's plain rows)."""
    if first is not None:
        return ReportingState.ON_TIME if first < before else ReportingState.LATE
    return ReportingState.MISSING if past_due else ReportingState.NOT_DUE


def reporting_state(
    first_reported_at: datetime | None, *, due_at: datetime, now: datetime
) -> ReportingState:
    return received_state(first_reported_at, before=due_at, past_due=now >= due_at)


def cell_state(cell: Cell, stats: PeriodStats) -> ReportingState | None:
    """Where a unit stands for a period (None: it does not owe it)."""
    if not cell.owed:
        return None
    return received_state(cell.first_reported_at, before=stats.due_at, past_due=cell.overdue)


def short_label(title: str) -> str:
    return title if len(title) <= PERIOD_LABEL_LIMIT else title[: PERIOD_LABEL_LIMIT - 1] + "…"


def period_counts(overview: Overview) -> list[PeriodCounts]:
    """One bar per period: how many owing units reported on time, late, not at all, not yet."""
    counts = []
    for stats in overview.stats:
        period_id = stats.period.id or 0
        states = [cell_state(row.cells[period_id], stats) for row in overview.rows]
        counts.append(
            PeriodCounts.of(short_label(stats.period.title), [s for s in states if s is not None])
        )
    return counts


def state_matrix(overview: Overview) -> StateMatrix:
    """The unit × period states (a period a unit does not owe shows as not due)."""
    units = [ChartUnit(code=row.unit.code, label=row.unit.short_name) for row in overview.rows]
    rows = [
        [
            cell_state(row.cells[stats.period.id or 0], stats) or ReportingState.NOT_DUE
            for stats in overview.stats
        ]
        for row in overview.rows
    ]
    periods = [short_label(stats.period.title) for stats in overview.stats]
    return StateMatrix.of(units, periods, rows)


def period_counts_of(stats: PeriodStats) -> PeriodCounts:
    """One bar of the rate chart from a period's totals (as :func:`period_counts` counts it
    from the cells: the units that owe the period)."""
    not_due = stats.total - stats.reported - stats.overdue
    return PeriodCounts(
        label=short_label(stats.period.title),
        on_time=stats.on_time,
        late=stats.late,
        missing=stats.overdue,
        not_due=not_due,
    )


# --- the export's plain grid (storage.export_rows) ---------------------------------------------

GridStates = list[tuple[ReportingState | None, ...]]  # per unit, per period; None: not owed


def grid_states(grid: Grid) -> GridStates:
    """Where every unit stands for every period of the grid (the export's overview sheet and
    heat map). Made a column at a time: the units without a report alike, then each report's
    (a call per report, not per cell of 10,000 units × 36 periods)."""
    columns = [_column_states(column) for column in grid.columns]
    return list(zip(*columns, strict=True)) if columns else [() for _ in grid.units]


def _column_states(column: GridColumn) -> list[ReportingState | None]:
    unreported = received_state(None, before=column.due_text, past_due=column.past_due)
    states = [unreported if owes else None for owes in column.owed]
    for row, report in column.reports.items():
        if states[row] is not None:
            states[row] = received_state(
                report[4], before=column.due_text, past_due=column.past_due
            )
    return states


def grid_matrix(grid: Grid, states: GridStates) -> StateMatrix:
    """The heat map of the grid (a period a unit does not owe shows as not due)."""
    units = [ChartUnit(code=unit.code, label=unit.short_name) for unit in grid.units]
    periods = [short_label(column.stats.period.title) for column in grid.columns]
    not_due = ReportingState.NOT_DUE
    rows = [[state or not_due for state in row] for row in states]
    return StateMatrix.of(units, periods, rows)


# --- indicators --------------------------------------------------------------------------------


def indicator(row: Indicator) -> doc.Indicator:
    direction = doc.Direction(row.direction)
    return doc.Indicator(
        code=row.code, name=row.name, unit=row.unit, target=row.target, direction=direction
    )


def indicator_readings(standings: Sequence[Standing]) -> list[doc.IndicatorReading]:
    """Each unit's latest value of each indicator (the one of the latest period it gave it in),
    for the documents."""
    return [
        doc.IndicatorReading(
            indicator_code=standing.indicator.code,
            unit_label=reading.unit_name,
            value=reading.value,
        )
        for standing in standings
        for reading in standing.readings
    ]


# --- the consolidated report -------------------------------------------------------------------


def consolidated_report(
    session: Session, *, plan: Plan, period: ReportingPeriod, now: datetime
) -> doc.ConsolidatedReport:
    """The coordinator's report for ``period`` as of ``now``: the plan's sections and tasks, and
    for each unit owing the period its latest report with its task results and indicator
    values (one row per unit read, never the history)."""
    assert plan.id is not None and period.id is not None
    owing = [
        unit
        for unit in plans.units(session, plan_id=plan.id, reporting_only=True)
        if plans.owes(period, unit)
    ]
    latest = {
        row.organisation_id: row
        for row in reports.latest_reports(session, plan_id=plan.id, period_ids=[period.id])
    }
    indicators = plans.indicators(session, plan_id=plan.id)
    contents = _report_contents(session, list(latest.values()), indicators)
    due = plans.due_at(period.due_before, ZoneInfo(plan.timezone))
    units = tuple(
        _reporting_unit(unit, latest.get(unit.organisation_id), contents, due=due, now=now)
        for unit in owing
    )
    cross_cutting, responsibilities = _plan_sections(session, plan_id=plan.id)
    return doc.ConsolidatedReport(
        plan=plan_info(session, plan),
        period=doc.ReportingPeriod(
            code=period.code,
            title=period.title,
            due_text=period.due_text,
            due_before=period.due_before,
        ),
        as_of=now,
        cross_cutting=cross_cutting,
        responsibilities=responsibilities,
        units=units,
        indicators=tuple(indicator(row) for row in indicators),
    )


def plan_info(session: Session, plan: Plan) -> doc.PlanInfo:
    assert plan.id is not None
    coordinator = plans.coordinator_unit(session, plan_id=plan.id)
    return doc.PlanInfo(
        number=plan.number,
        title=plan.title,
        issuer=plan.issuer,
        province=plan.province,
        issued_on=plan.issued_on,
        coordinator_name=coordinator.name if coordinator else plan.issuer,
        coordinator_short_name=coordinator.short_name if coordinator else plan.issuer,
        coordinator_section=coordinator.section if coordinator else "",
        timezone=plan.timezone,
    )


def _plan_sections(
    session: Session, *, plan_id: int
) -> tuple[tuple[doc.PlanSection, ...], tuple[doc.PlanSection, ...]]:
    """The shared items (II.n) and the units' items (IV.n), each with its tasks in order."""
    shared: list[doc.PlanSection] = []
    own: list[doc.PlanSection] = []
    for section in plans.sections(session, plan_id=plan_id):
        tasks = plans.tasks_of_section(session, plan_id=plan_id, section=section.section)
        item = doc.PlanSection(
            section=section.section,
            heading=section.heading,
            tasks=tuple(task.text for task in tasks),
        )
        (shared if section.section.startswith(SHARED_SECTION_PREFIX) else own).append(item)
    return tuple(shared), tuple(own)


class _Contents:
    """What the latest reports hold, by status update id."""

    def __init__(self) -> None:
        self.updates: dict[int, StatusUpdate] = {}
        self.tasks: defaultdict[int, list[doc.TaskResult]] = defaultdict(list)
        self.values: defaultdict[int, list[doc.IndicatorValue]] = defaultdict(list)


def _report_contents(
    session: Session, latest: Sequence[LatestReport], indicators: Sequence[Indicator]
) -> _Contents:
    ids = [row.status_update_id for row in latest]
    contents = _Contents()
    contents.updates = reports.status_updates_by_id(session, ids)
    for result, task in reports.task_results_of(session, ids):
        contents.tasks[result.status_update_id].append(
            doc.TaskResult(
                section=task.section,
                ordinal=task.ordinal,
                status_label=ReportStatus(result.status).label,
                result=result.result or "",
            )
        )
    codes = {row.id: row.code for row in indicators}
    for value in reports.indicator_values_of(session, ids):
        code = codes.get(value.indicator_id)
        if code is not None:
            contents.values[value.status_update_id].append(
                doc.IndicatorValue(indicator_code=code, value=value.value)
            )
    return contents


def _reporting_unit(
    unit: PlanUnit,
    latest: LatestReport | None,
    contents: _Contents,
    *,
    due: datetime,
    now: datetime,
) -> doc.ReportingUnit:
    update = contents.updates.get(latest.status_update_id) if latest is not None else None
    first = latest.first_reported_at if latest is not None and update is not None else None
    return doc.ReportingUnit(
        code=unit.code,
        name=unit.name,
        short_name=unit.short_name,
        section=unit.section,
        kind=unit.kind,
        state=reporting_state(first, due_at=due, now=now),
        received_at=first,
        report=_unit_report(update, contents) if update is not None else None,
    )


def _unit_report(update: StatusUpdate, contents: _Contents) -> doc.UnitReport:
    """The latest report. A report «Gặp vướng mắc» must say what blocks the unit and what it
    proposes (the bot asks that as its note): that note is the unit's difficulties, quoted in
    part IV of the report, not as a result in part II."""
    assert update.id is not None
    blocked = ReportStatus(update.status) == ReportStatus.BLOCKED
    return doc.UnitReport(
        status_label=ReportStatus(update.status).label,
        progress=update.progress,
        reported_at=update.created_at,
        note=None if blocked else update.note,
        file_name=update.file_name,
        task_results=tuple(contents.tasks[update.id]),
        indicator_values=tuple(contents.values[update.id]),
        difficulties=update.note if blocked else None,
    )
