"""The database's read models as the input of the output documents (:mod:`documents`).

The documents package is pure (plain dataclasses in, bytes out); this module fills its types
from the overview, the plan and the reports, for the Excel export, the charts and the
consolidated report.
"""

from __future__ import annotations

from documents.model import ChartUnit, PeriodCounts, ReportingState, StateMatrix
from storage.read_models import Cell, Overview, PeriodStats

PERIOD_LABEL_LIMIT = 40


def cell_state(cell: Cell, stats: PeriodStats) -> ReportingState | None:
    """Where a unit stands for a period (None: it does not owe it)."""
    if not cell.owed:
        return None
    first = cell.first_reported_at
    if first is not None:
        return ReportingState.ON_TIME if first < stats.due_at else ReportingState.LATE
    return ReportingState.MISSING if cell.overdue else ReportingState.NOT_DUE


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
