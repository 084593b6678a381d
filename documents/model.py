"""What the documents are made from: plain frozen dataclasses the caller fills from the database.

Texts are carried exactly as the plan or the focal point wrote them; the renderers quote them and
add nothing but fixed labels (:mod:`documents.report_labels`), numbers and dates. Timestamps are
aware datetimes; the renderers show them in the plan's time zone.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

Number = int | float | Decimal


class ReportingState(enum.StrEnum):
    """Where one unit stands for one reporting period."""

    ON_TIME = "dung_han"  # the first report came before the deadline
    LATE = "tre_han"  # the first report came on or after the deadline
    MISSING = "chua_nop"  # the deadline has passed and nothing came
    NOT_DUE = "chua_den_han"  # nothing came yet, and the deadline has not passed


RECEIVED_STATES = frozenset({ReportingState.ON_TIME, ReportingState.LATE})


class Direction(enum.StrEnum):
    """Whether an indicator's target is a floor (≥) or a ceiling (≤)."""

    AT_LEAST = "at-least"
    AT_MOST = "at-most"


@dataclass(frozen=True, kw_only=True)
class PlanInfo:
    """The plan the report answers, and the coordinator who writes the report."""

    number: str  # "40/KH-UBND"
    title: str  # "Kế hoạch thực hiện công tác bình đẳng giới năm 2021"
    issuer: str  # "Ủy ban nhân dân tỉnh Thái Bình"
    province: str  # "Thái Bình"
    issued_on: date
    coordinator_name: str  # "Sở Lao động - Thương binh và Xã hội"
    coordinator_short_name: str  # "Sở LĐTBXH"
    coordinator_section: str = ""  # "IV.1": its own results are the coordinator's to write
    timezone: str = "Asia/Ho_Chi_Minh"

    @property
    def subject(self) -> str:
        """What the plan is about: its title without the leading word "Kế hoạch"."""
        for prefix in ("Kế hoạch ", "kế hoạch "):
            if self.title.startswith(prefix) and len(self.title) > len(prefix):
                return self.title.removeprefix(prefix)
        return self.title

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, kw_only=True)
class ReportingPeriod:
    """One report the units owe the coordinator."""

    code: str  # "tong-ket-nam"
    title: str  # "Báo cáo tổng kết năm"
    due_text: str  # what the plan says: "trước ngày 10/12/2021"
    due_before: date  # the first day that is late


@dataclass(frozen=True, kw_only=True)
class PlanSection:
    """A numbered item of the plan: II.n (shared by every unit) or IV.n (some units' own)."""

    section: str  # "II.1", "IV.2"
    heading: str  # the item's title (II.n) or heading (IV.n), as in the plan
    tasks: tuple[str, ...] = ()  # its bullets in order; a task's ordinal is its index + 1


@dataclass(frozen=True, kw_only=True)
class TaskResult:
    """What a unit reported about one task of the plan."""

    section: str  # the task's section: "II.1" or the unit's "IV.n"
    ordinal: int  # 1-based, as PlanSection.tasks
    status_label: str  # "Hoàn thành", as the bot showed it
    result: str = ""  # "đã tổ chức 3 lớp tập huấn, 120 lượt người"


@dataclass(frozen=True, kw_only=True)
class IndicatorValue:
    indicator_code: str
    value: Number


@dataclass(frozen=True, kw_only=True)
class UnitReport:
    """The latest report of one unit for the period."""

    status_label: str  # "Hoàn thành", "Gặp vướng mắc", …
    progress: int  # percent, 0–100
    reported_at: datetime  # when this (latest) report was sent
    note: str | None = None
    file_name: str | None = None
    task_results: tuple[TaskResult, ...] = ()
    indicator_values: tuple[IndicatorValue, ...] = ()
    # The difficulties and proposals the unit reported: until the bot asks for them on their
    # own, the caller passes the note of a report whose status is "Gặp vướng mắc".
    difficulties: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReportingUnit:
    """A unit that owes the period's report, where it stands, and what it reported."""

    code: str
    name: str
    short_name: str
    section: str  # the IV.n item it belongs to
    kind: str  # department, mass-organization, media, district, commune, other
    state: ReportingState
    received_at: datetime | None = None  # the first report for the period: on time or late
    report: UnitReport | None = None

    def __post_init__(self) -> None:
        received = self.state in RECEIVED_STATES
        if received != (self.report is not None) or received != (self.received_at is not None):
            raise ValueError(
                f"unit {self.code}: state {self.state.value} needs report and received_at "
                f"{'set' if received else 'empty'}"
            )


@dataclass(frozen=True, kw_only=True)
class Indicator:
    """A numeric target of the plan."""

    code: str
    name: str
    unit: str  # "%", "người", …
    target: Number
    direction: Direction = Direction.AT_LEAST

    def met_by(self, value: Number) -> bool:
        if self.direction is Direction.AT_LEAST:
            return Decimal(str(value)) >= Decimal(str(self.target))
        return Decimal(str(value)) <= Decimal(str(self.target))


@dataclass(frozen=True, kw_only=True)
class ConsolidatedReport:
    """Everything the coordinator's report for one period is made from."""

    plan: PlanInfo
    period: ReportingPeriod
    as_of: datetime  # when the data was read
    cross_cutting: tuple[PlanSection, ...]  # II.1–II.n
    responsibilities: tuple[PlanSection, ...]  # IV.1–IV.n
    units: tuple[ReportingUnit, ...]  # the units owing the report, in plan order
    indicators: tuple[Indicator, ...] = ()

    def units_of(self, section: str) -> list[ReportingUnit]:
        return [unit for unit in self.units if unit.section == section]

    def units_in(self, *states: ReportingState) -> list[ReportingUnit]:
        return [unit for unit in self.units if unit.state in states]

    def counts(self, label: str | None = None) -> PeriodCounts:
        return PeriodCounts.of(label or self.period.title, (unit.state for unit in self.units))


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PeriodCounts:
    """How many units stand where for one period (one bar of the reporting-rate chart)."""

    label: str  # the period's title, or a short form of it
    on_time: int = 0
    late: int = 0
    missing: int = 0
    not_due: int = 0

    @classmethod
    def of(cls, label: str, states: Iterable[ReportingState]) -> PeriodCounts:
        counted = Counter(states)
        return cls(
            label=label,
            on_time=counted[ReportingState.ON_TIME],
            late=counted[ReportingState.LATE],
            missing=counted[ReportingState.MISSING],
            not_due=counted[ReportingState.NOT_DUE],
        )

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.missing + self.not_due

    def count(self, state: ReportingState) -> int:
        return {
            ReportingState.ON_TIME: self.on_time,
            ReportingState.LATE: self.late,
            ReportingState.MISSING: self.missing,
            ReportingState.NOT_DUE: self.not_due,
        }[state]


@dataclass(frozen=True, kw_only=True)
class ChartUnit:
    """A row of the heat map: a unit by its code and the short name shown."""

    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class IndicatorReading:
    """One value of an indicator, as one unit (or the province) reported it."""

    indicator_code: str
    unit_label: str
    value: Number


@dataclass(frozen=True)
class StateMatrix:
    """A unit × period matrix of reporting states, checked for shape."""

    units: tuple[ChartUnit, ...]
    periods: tuple[str, ...]
    rows: tuple[tuple[ReportingState, ...], ...] = field(repr=False)

    @classmethod
    def of(
        cls,
        units: Sequence[ChartUnit],
        periods: Sequence[str],
        states: Sequence[Sequence[ReportingState]],
    ) -> StateMatrix:
        if len(states) != len(units) or any(len(row) != len(periods) for row in states):
            raise ValueError(
                f"states must have one row per unit ({len(units)}) and one column per period "
                f"({len(periods)})"
            )
        return cls(tuple(units), tuple(periods), tuple(tuple(row) for row in states))
