"""The dashboard's pages as HTML: the filters of the overview, and Jinja2 templates.

Jinja2 rather than the standard library's ``string.Template``: every value on these pages —
a unit's name, a focal point's note — may hold ``<`` or ``&``, and Jinja2 escapes each one
(``autoescape``) where ``string.Template`` would leave every row to be built by hand with an
``html.escape`` call that one day gets forgotten; Jinja2 also has the loops and the shared page
layout the tables need. Pages are rendered from the dataclasses of :mod:`web.data`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from documents.formats import fmt_percent, fmt_quantity
from documents.labels import DIRECTION_LABELS, STATE_LABELS
from documents.model import PeriodCounts, ReportingState
from storage.models import ReportStatus
from web.data import AgencyDetail, Overview, OverviewRow, Period

PAGE_SIZE = 100
NO_REPORT = "chua_bao_cao"
KIND_LABELS = {
    "department": "Sở, ban, ngành",
    "mass-organization": "Tổ chức đoàn thể",
    "media": "Cơ quan báo chí",
    "district": "UBND huyện, thành phố",
    "commune": "UBND xã, phường",
    "other": "Đơn vị khác",
}
STATUS_FILTERS = {status.value: status.label for status in ReportStatus} | {
    NO_REPORT: "Chưa báo cáo"
}
STATE_CLASSES = {
    ReportingState.ON_TIME: "dung-han",
    ReportingState.LATE: "tre-han",
    ReportingState.MISSING: "chua-nop",
    ReportingState.NOT_DUE: "chua-den-han",
}


class BadFilter(ValueError):
    """A filter value the page does not know: the message says which, in Vietnamese."""


@dataclass(frozen=True)
class Filters:
    """What the coordinator chose on the overview: the period and which units to show."""

    plan: str
    period: int  # index into Overview.periods
    kind: str = ""
    status: str = ""
    overdue: bool = False
    search: str = ""
    page: int = 1

    def query(self, periods: Sequence[Period], **changes: object) -> str:
        """The overview's query string for these filters with ``changes``."""
        chosen = replace(self, **changes)  # type: ignore[arg-type]
        values = {
            "ke_hoach": chosen.plan,
            "ky": periods[chosen.period].code if periods else "",
            "loai": chosen.kind,
            "trang_thai": chosen.status,
            "qua_han": "1" if chosen.overdue else "",
            "tim": chosen.search,
            "trang": str(chosen.page) if chosen.page > 1 else "",
        }
        return urlencode({key: value for key, value in values.items() if value})


def default_period(periods: Sequence[Period], today: date) -> int:
    """The period to show first: the next one due, or the last when all are past."""
    for index, period in enumerate(periods):
        if period.due_before > today:
            return index
    return max(len(periods) - 1, 0)


def read_filters(
    query: Mapping[str, str], overview: Overview, *, kinds: Collection[str] | None = None
) -> Filters:
    """The overview's filters from the query string, or :class:`BadFilter`; ``kinds``: the
    plan's kinds of unit when ``overview`` holds one page of its rows, not all."""
    codes = [period.code for period in overview.periods]
    period_code = query.get("ky", "")
    if period_code and period_code not in codes:
        raise BadFilter(f"Không có kỳ báo cáo «{period_code[:60]}» trong kế hoạch này.")
    kind = query.get("loai", "")
    known = {row.unit.kind for row in overview.rows} if kinds is None else set(kinds)
    if kind and kind not in known:
        raise BadFilter(f"Không có loại đơn vị «{kind[:60]}».")
    status = query.get("trang_thai", "")
    if status and status not in STATUS_FILTERS:
        raise BadFilter(f"Không có tình trạng «{status[:60]}».")
    page = query.get("trang", "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise BadFilter(f"Số trang «{page[:20]}» không hợp lệ.")
    today = overview.as_of.astimezone(ZoneInfo(overview.plan.timezone)).date()
    return Filters(
        plan=overview.plan.code,
        period=codes.index(period_code) if period_code else default_period(overview.periods, today),
        kind=kind,
        status=status,
        overdue=query.get("qua_han", "") in ("1", "on"),
        search=query.get("tim", "").strip()[:100],
        page=int(page),
    )


def _matches(row: OverviewRow, filters: Filters) -> bool:
    cell = row.cells[filters.period] if row.cells else None
    standing = (cell.state, cell.status) if cell is not None else None
    return unit_matches(row.unit.kind, row.unit.code, row.unit.name, standing, filters)


def unit_matches(
    kind: str,
    code: str,
    name: str,
    standing: tuple[ReportingState, str | None] | None,
    filters: Filters,
) -> bool:
    """Whether a unit passes the filters; ``standing``: its state and latest status for the
    chosen period (None: the plan has no period)."""
    if filters.kind and kind != filters.kind:
        return False
    if filters.status and standing is not None and (standing[1] or NO_REPORT) != filters.status:
        return False
    if filters.overdue and (standing is None or standing[0] is not ReportingState.MISSING):
        return False
    needle = filters.search.casefold()
    return not needle or needle in f"{code} {name}".casefold()


@dataclass(frozen=True)
class OverviewPage:
    overview: Overview
    filters: Filters
    counts: PeriodCounts  # the chosen period, every unit
    rows: tuple[OverviewRow, ...]  # this page's rows
    matching: int  # rows passing the filters
    pages: int
    kinds: tuple[str, ...] | None = None  # the plan's kinds of unit (None: those of the rows)

    def link(self, **changes: object) -> str:
        return "?" + self.filters.query(self.overview.periods, **changes)


def overview_page(overview: Overview, filters: Filters) -> OverviewPage:
    selected = [row for row in overview.rows if _matches(row, filters)]
    pages = max(1, -(-len(selected) // PAGE_SIZE))
    page = min(filters.page, pages)
    start = (page - 1) * PAGE_SIZE
    states = (row.cells[filters.period].state for row in overview.rows if row.cells)
    title = overview.periods[filters.period].title if overview.periods else ""
    return OverviewPage(
        overview=overview,
        filters=replace(filters, page=page),
        counts=PeriodCounts.of(title, states),
        rows=tuple(selected[start : start + PAGE_SIZE]),
        matching=len(selected),
        pages=pages,
    )


# --- rendering --------------------------------------------------------------------------------


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        STATE_LABELS=STATE_LABELS,
        STATE_CLASSES=STATE_CLASSES,
        KIND_LABELS=KIND_LABELS,
        STATUS_FILTERS=STATUS_FILTERS,
        DIRECTION_LABELS=DIRECTION_LABELS,
        fmt_percent=fmt_percent,
        fmt_quantity=fmt_quantity,
    )
    environment.filters["day"] = lambda day: f"{day:%d/%m/%Y}"
    return environment


ENVIRONMENT = _environment()


def moment_formatter(timezone: str) -> object:
    zone = ZoneInfo(timezone)

    def moment(value: datetime | None) -> str:
        return f"{value.astimezone(zone):%H:%M %d/%m/%Y}" if value is not None else ""

    return moment


def render(template: str, **context: object) -> str:
    return ENVIRONMENT.get_template(template).render(**context)


def render_overview(page: OverviewPage, *, plans: Sequence[object]) -> str:
    return render(
        "overview.html",
        page=page,
        plans=plans,
        moment=moment_formatter(page.overview.plan.timezone),
        kinds=(
            list(page.kinds)
            if page.kinds is not None
            else sorted({row.unit.kind for row in page.overview.rows})
        ),
    )


def render_agency(detail: AgencyDetail) -> str:
    return render("agency.html", detail=detail, moment=moment_formatter(detail.plan.timezone))
