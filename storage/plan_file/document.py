"""The shapes of a plan file, format 1 and format 2, as pydantic models.

These check what one value can check on its own (a code's pattern, a date that exists, a field
that is missing); what depends on other parts of the plan is checked in :mod:`.checks`.
"""

from __future__ import annotations

import enum
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from storage.plan_file.values import (
    OFFICE_DAY_END,
    OFFICE_DAY_START,
    RESPONSIBILITY_PATTERN,
    SECTION_PATTERN,
    AgencyCode,
    ClockTime,
    Event,
    MonthRef,
    PeriodEnd,
    PeriodStart,
    PlanCode,
    PlanDate,
    ShortText,
    Slug,
    Target,
    Text,
    UnitRef,
    Weekday,
    WorkingDays,
    collapse,
    day_input,
    month_ref,
    year_ref,
)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanStatus(enum.StrEnum):
    """Where a plan stands: only an active plan reminds."""

    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"
    ARCHIVED = "archived"


# --- shared by both formats ----------------------------------------------------------------------


class UnitSpec(Spec):
    """One responsible unit (an agency)."""

    code: AgencyCode
    name: ShortText
    short_name: Annotated[
        str, BeforeValidator(collapse), StringConstraints(min_length=1, max_length=60)
    ]


UnitKind = Literal["department", "mass-organization", "media", "district", "commune", "other"]


class ResponsibilitySpec(Spec):
    """One numbered item of section IV: its units and their tasks.

    ``units`` holds every unit of the item once the file is read: those listed inline, then
    those of ``units_file`` (format 2), in file order.
    """

    section: Annotated[str, StringConstraints(pattern=RESPONSIBILITY_PATTERN)]
    heading: Text
    kind: UnitKind
    open: bool = False
    units: list[UnitSpec] = []
    units_file: (
        Annotated[str, BeforeValidator(collapse), StringConstraints(min_length=1)] | None
    ) = None
    tasks: Annotated[list[Text], Field(min_length=1)]

    @model_validator(mode="after")
    def _closed_sections_have_units(self) -> ResponsibilitySpec:
        if not self.open and not self.units and self.units_file is None:
            raise ValueError(
                "mục không mở (open: false) phải có ít nhất một đơn vị trong units hoặc units_file"
            )
        return self


class CrossCuttingSpec(Spec):
    """One numbered item of section II: a task every unit shares."""

    section: Annotated[str, StringConstraints(pattern=r"^II\.\d{1,2}$")]
    title: Text
    tasks: Annotated[list[Text], Field(min_length=1)]


class ReminderSettings(Spec):
    """When the bot reminds; the working practice of the coordinator's office."""

    office_time: ClockTime = time(8, 30)
    before_deadline_working_days: list[WorkingDays] = [10, 5, 2, 1]
    overdue_working_days: list[WorkingDays] = [1, 3, 5, 10]
    campaign_checkin_weekday: Weekday = "monday"
    digest_weekday: Weekday = "monday"
    digest_time: ClockTime = time(16, 30)

    @field_validator("office_time", "digest_time")
    @classmethod
    def _in_office_hours(cls, value: time) -> time:
        if not OFFICE_DAY_START <= value < OFFICE_DAY_END:
            raise ValueError(
                f"giờ phải trong giờ hành chính, từ {OFFICE_DAY_START:%H:%M} đến trước "
                f"{OFFICE_DAY_END:%H:%M}, nhận được {value:%H:%M}"
            )
        return value

    @field_validator("before_deadline_working_days", "overdue_working_days")
    @classmethod
    def _no_repeats(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("có số ngày bị lặp lại")
        return sorted(value)


class PlanFileBase(Spec):
    """What every format's header says."""

    code: PlanCode
    status: PlanStatus = PlanStatus.ACTIVE
    number: ShortText
    title: ShortText
    issuer: ShortText
    province: ShortText
    issued_on: PlanDate
    timezone: str
    coordinator: AgencyCode
    cross_cutting: list[CrossCuttingSpec] = []
    responsibilities: Annotated[list[ResponsibilitySpec], Field(min_length=1)]
    reminders: ReminderSettings = ReminderSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"múi giờ không tồn tại: {value!r}") from exc
        return value


# --- format 1 ------------------------------------------------------------------------------------


class DeadlineSpec(Spec):
    """A report owed to the coordinator; ``due_before`` is the first day that is late."""

    code: Slug
    title: ShortText
    due_before: PlanDate


class CampaignSpec(Spec):
    """A period of concerted action (both end days included)."""

    code: Slug
    section: Annotated[str, StringConstraints(pattern=SECTION_PATTERN)]
    title: ShortText
    starts_on: PlanDate
    ends_on: PlanDate

    @model_validator(mode="after")
    def _ends_after_start(self) -> CampaignSpec:
        if self.ends_on < self.starts_on:
            raise ValueError(
                f"ends_on ({self.ends_on:%d/%m/%Y}) trước starts_on ({self.starts_on:%d/%m/%Y})"
            )
        return self


class PlanFile1(PlanFileBase):
    """A whole format 1 file: one year's plan with dated deadlines."""

    format: Literal[1]
    deadlines: Annotated[list[DeadlineSpec], Field(min_length=1)]
    campaigns: list[CampaignSpec] = []


# --- format 2 ------------------------------------------------------------------------------------


class DaySpec(Spec):
    """A day as a plan writes it: ``10/6``, ``10/06/2026`` or ``{day: 15, month: last}``.

    ``month`` is a calendar month, or the first / last month of a reporting period or the month
    after it (``next``); ``year`` is none (the period's own), ``next`` or a year (a full date).
    Which forms a value may take depends on where it stands (see :mod:`.checks`).
    """

    day: Annotated[int, Field(ge=1, le=31)]
    month: Annotated[int | MonthRef, BeforeValidator(month_ref)]
    year: Annotated[int | Literal["next"] | None, BeforeValidator(year_ref)] = None


Day = Annotated[DaySpec, BeforeValidator(day_input)]
Every = Literal["once", "year", "half-year", "quarter", "month"]
Rule = Literal["before", "by"]


class PlanPeriodSpec(Spec):
    """The years (or dates) a plan covers, both ends included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Annotated[PeriodStart, Field(alias="from")]
    to: PeriodEnd


class PhaseSpec(Spec):
    """A stage of a multi-year plan ("giai đoạn 2026-2027"), both ends included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: Slug
    title: ShortText
    from_: Annotated[PeriodStart, Field(alias="from")]
    to: PeriodEnd


class AfterSpec(Spec):
    """A deadline ``days`` calendar days after an event."""

    event: Event
    days: Annotated[int, Field(ge=0, le=366)]


class ReportSeriesSpec(Spec):
    """A report the plan asks for once or at every period (a series of reporting periods)."""

    code: Slug
    title: ShortText
    every: Every = "once"
    due: Day | None = None
    after: AfterSpec | None = None
    rule: Rule = "before"
    units: Annotated[list[UnitRef], Field(min_length=1)] | None = None


class ResultReportSpec(Spec):
    """A campaign's result report: one reporting period per run."""

    code: Slug
    title: ShortText
    days_after: Annotated[int, Field(ge=1, le=90)]


class CampaignSeriesSpec(Spec):
    """A campaign held once or every year (the Action Month 15/11–15/12)."""

    code: Slug
    section: Annotated[str, StringConstraints(pattern=SECTION_PATTERN)]
    title: ShortText
    every: Literal["once", "year"] = "once"
    starts: Day
    ends: Day
    checkins: Literal["weekly", "none"] = "weekly"
    result_report: ResultReportSpec | None = None


class IndicatorSpec(Spec):
    """A number the plan tracks against a target ("tỷ lệ … đạt 30%")."""

    code: Slug
    name: ShortText
    unit: Annotated[str, BeforeValidator(collapse), StringConstraints(min_length=1, max_length=20)]
    target: Target
    direction: Literal["at-least", "at-most"] = "at-least"
    reported_by: Annotated[list[UnitRef], Field(min_length=1)] | None = None
    reports: Annotated[list[Slug], Field(min_length=1)] | None = None


class CalendarSpec(Spec):
    """Days the national holiday calendar does not know: extra days off, Saturdays worked."""

    days_off: dict[PlanDate, ShortText] = {}
    working_days: dict[PlanDate, ShortText] = {}


class PlanFile2(PlanFileBase):
    """A whole format 2 file: a multi-year plan with recurring reports and campaigns."""

    format: Literal[2]
    example: bool = False
    period: PlanPeriodSpec
    phases: list[PhaseSpec] = []
    reports: Annotated[list[ReportSeriesSpec], Field(min_length=1)]
    campaigns: list[CampaignSeriesSpec] = []
    indicators: list[IndicatorSpec] = []
    calendar: CalendarSpec = CalendarSpec()


def day_of(spec: DaySpec) -> date:
    """A full date (year given): only once :mod:`.checks` has made sure it exists."""
    assert isinstance(spec.year, int) and isinstance(spec.month, int)
    return date(spec.year, spec.month, spec.day)
