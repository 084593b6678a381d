"""What the dashboard reads: plain frozen dataclasses and the :class:`DashboardData` protocol.

The pages know nothing of tables. :mod:`web.storage_data` implements the protocol over the
storage API of today; a new data model is one new implementation of this protocol, in one
module. Every method is synchronous (a database session in a worker thread) and read-only.

Names follow the domain: a *plan* has *reporting periods*; its *units* (the agencies it names)
owe a report for each period; a unit's *focal points* send *status updates*, the latest of which
is the unit's state for the period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from documents.model import (
    Indicator,
    IndicatorReading,
    PeriodCounts,
    ReportingState,
    StateMatrix,
)

if TYPE_CHECKING:
    from web.pages import OverviewPage


@dataclass(frozen=True, kw_only=True)
class PlanSummary:
    code: str
    number: str  # "40/KH-UBND"
    title: str
    issuer: str
    timezone: str  # the plan's own zone: every time on its pages is shown in it


@dataclass(frozen=True, kw_only=True)
class Period:
    """One report the units owe the coordinator."""

    code: str
    title: str  # "Báo cáo sơ kết 6 tháng"
    due_before: date  # the first day that is late
    due_text: str  # what the plan says: "trước ngày 10/06/2021"


@dataclass(frozen=True, kw_only=True)
class Unit:
    code: str
    name: str
    short_name: str
    kind: str  # department, mass-organization, media, district, commune, other
    section: str  # the plan's item: "IV.2"


@dataclass(frozen=True, kw_only=True)
class Cell:
    """Where one unit stands for one period."""

    state: ReportingState
    status: str | None = None  # the latest report's status value (storage.models.ReportStatus)
    status_label: str | None = None  # "Hoàn thành"
    progress: int | None = None
    first_reported_at: datetime | None = None  # decides on time or late
    reported_at: datetime | None = None  # the latest report


@dataclass(frozen=True, kw_only=True)
class OverviewRow:
    unit: Unit
    focal_points: int
    cells: tuple[Cell, ...]  # one per period, in the order of Overview.periods


@dataclass(frozen=True, kw_only=True)
class Overview:
    """Every reporting unit of a plan against every reporting period, at ``as_of``."""

    plan: PlanSummary
    as_of: datetime
    periods: tuple[Period, ...]
    rows: tuple[OverviewRow, ...]
    indicators: tuple[Indicator, ...] = ()  # the plan's numeric targets


@dataclass(frozen=True, kw_only=True)
class FocalPointInfo:
    full_name: str
    position: str
    phone: str
    channels: tuple[str, ...]  # "telegram", "zalo"
    registered_at: datetime


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One status update of a unit, as its history shows it."""

    update_id: int
    period_title: str
    status_label: str
    progress: int
    note: str | None
    reported_at: datetime
    channel: str
    reported_by: str | None = None  # the focal point's name
    file_name: str | None = None  # set when the update carries a file


@dataclass(frozen=True, kw_only=True)
class IndicatorLine:
    """A value a unit reported for one of the plan's indicators, against its target."""

    indicator: Indicator
    period_title: str
    value: float | None  # None: asked, not reported yet

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.indicator.met_by(self.value)


@dataclass(frozen=True, kw_only=True)
class AgencyDetail:
    plan: PlanSummary
    as_of: datetime
    unit: Unit
    periods: tuple[Period, ...]
    cells: tuple[Cell, ...]  # one per period
    focal_points: tuple[FocalPointInfo, ...]
    history: tuple[HistoryEntry, ...]  # newest first
    indicators: tuple[IndicatorLine, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReportFile:
    """Where the file of a status update lives: a channel's handle for it."""

    plan_code: str
    file_name: str
    channel: str  # whose handle ``file_id`` is: telegram (file_id), zalo (URL), console (path)
    file_id: str


@dataclass(frozen=True, kw_only=True)
class ChartsInput:
    """What the three charts of :mod:`documents.charts` are drawn from."""

    periods: tuple[PeriodCounts, ...]
    matrix: StateMatrix
    indicators: tuple[Indicator, ...] = ()
    readings: tuple[IndicatorReading, ...] = ()


class DashboardData(Protocol):
    """The read-only questions the dashboard asks. ``None``: no such plan (or unit, file)."""

    def plans(self) -> Sequence[PlanSummary]:
        """The plans to offer, the current one first."""
        ...

    def overview(self, plan_code: str, *, now: datetime) -> Overview | None: ...

    def overview_page(
        self, plan_code: str, query: Mapping[str, str], *, now: datetime
    ) -> OverviewPage | None:
        """The overview page ``query`` asks for (its filters, read by
        :func:`web.pages.read_filters`, which raises :class:`web.pages.BadFilter`): the chosen
        period's counts over every unit, the page's units with every cell."""
        ...

    def agency(self, plan_code: str, unit_code: str, *, now: datetime) -> AgencyDetail | None: ...

    def report_file(self, status_update_id: int) -> ReportFile | None: ...

    def charts(self, plan_code: str, *, now: datetime) -> ChartsInput | None: ...

    def export(self, plan_code: str, *, now: datetime) -> bytes | None:
        """The plan's Excel workbook (.xlsx bytes)."""
        ...


def state_of(
    *, first_reported_at: datetime | None, due_at: datetime, now: datetime
) -> ReportingState:
    """A unit's reporting state from when its first report came (None: none yet)."""
    if first_reported_at is not None:
        return ReportingState.ON_TIME if first_reported_at < due_at else ReportingState.LATE
    return ReportingState.MISSING if now >= due_at else ReportingState.NOT_DUE
