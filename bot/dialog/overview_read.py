"""What the coordinator's overview of a large plan reads: the counts, and one page of units.

The selection's focus becomes the question asked in SQL (:mod:`storage.overview_counts`); only
the units of the page shown get their cells. The texts are the same as those of an overview
read in full (:func:`bot.dialog.overview_scope.summary_of`), which the tests compare.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from bot.dialog.overview_render import BlockedReport
from bot.dialog.overview_scope import PAGE_SIZE, Focus, Page, Summary, page_bounds, paged
from storage import overview_counts
from storage.read_models import Totals

# Which units each focus lists: (overdue for a past period, reporting a problem); neither: all.
FOCUS_FLAGS: dict[Focus, tuple[bool, bool]] = {
    Focus.ATTENTION: (True, True),
    Focus.OVERDUE: (True, False),
    Focus.BLOCKED: (False, True),
    Focus.ALL: (False, False),
}


def focused_count(session: Session, totals: Totals, *, kinds: Collection[str], focus: Focus) -> int:
    overdue, blocked = FOCUS_FLAGS[focus]
    return overview_counts.unit_count(
        session, totals, kinds=kinds, overdue=overdue, blocked=blocked
    )


def read_summary(
    session: Session, totals: Totals, *, kinds: Collection[str], focus: Focus, number: int
) -> Summary:
    """The counts and page ``number`` (the last when there are fewer) of the units in focus."""
    overdue, blocked = FOCUS_FLAGS[focus]
    focused = overview_counts.focused_organisations(
        session, totals, kinds=kinds, overdue=overdue, blocked=blocked
    )
    number, pages, start = page_bounds(len(focused), number)
    units = overview_counts.units_of(session, totals, focused[start : start + PAGE_SIZE])
    rows = overview_counts.overview_rows(session, totals, units)
    return Summary(totals, paged(rows, number=number, pages=pages, total=len(focused)))


def read_blocked(
    session: Session, totals: Totals, *, kinds: Collection[str], number: int
) -> Page[BlockedReport]:
    """Page ``number`` of the problems reported (unit, period number, its latest report)."""
    total = overview_counts.blocked_count(session, totals, kinds=kinds)
    number, pages, start = page_bounds(total, number)
    found = overview_counts.blocked_page(
        session, totals, kinds=kinds, offset=start, limit=PAGE_SIZE
    )
    units = list({unit.organisation_id: unit for unit, _, _ in found}.values())
    rows = {
        row.unit.organisation_id: row
        for row in overview_counts.overview_rows(session, totals, units)
    }
    items: list[BlockedReport] = []
    for unit, period_number, period_id in found:
        row = rows[unit.organisation_id]
        latest = row.cells[period_id].latest
        assert latest is not None, "a problem reported is a latest report"
        items.append((row, period_number, latest))
    return paged(items, number=number, pages=pages, total=total)
