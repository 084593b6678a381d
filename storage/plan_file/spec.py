"""The normalised view of a plan: what the rest of the code uses, whatever the file's format.

A format 1 file (one year, dated deadlines) and a format 2 file (a multi-year plan with
recurring reports and campaigns) both become a :class:`PlanSpec` whose reporting periods and
campaign runs are concrete: :meth:`PlanSpec.reporting_periods`, :meth:`PlanSpec.campaign_runs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from storage.plan_file.document import (
    CampaignSeriesSpec,
    CampaignSpec,
    CrossCuttingSpec,
    DeadlineSpec,
    IndicatorSpec,
    PhaseSpec,
    PlanPeriodSpec,
    PlanStatus,
    ReminderSettings,
    ReportSeriesSpec,
    ResponsibilitySpec,
    UnitSpec,
)
from storage.plan_file.recurrence import (
    CampaignRunSpec,
    Frame,
    PeriodSpec,
    UnitSelection,
    expand_periods,
    expand_runs,
)

DAY = timedelta(days=1)


class PlanSpec(BaseModel):
    """A plan as read from its file (see plans/README.md), both formats alike.

    ``deadlines`` and ``campaigns`` are format 1's lists (for format 2: its reporting periods
    and campaign runs in format 1's shape), kept for the loader of today's data model; use
    :meth:`reporting_periods` and :meth:`campaign_runs` everywhere else. ``reports``,
    ``campaign_series``, ``period`` and ``phases`` are format 2's own (empty for format 1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1, 2]
    code: str
    status: PlanStatus = PlanStatus.ACTIVE
    example: bool = False
    number: str
    title: str
    issuer: str
    province: str
    issued_on: date
    timezone: str
    coordinator: str
    cross_cutting: list[CrossCuttingSpec] = []
    responsibilities: list[ResponsibilitySpec]
    deadlines: list[DeadlineSpec] = []
    campaigns: list[CampaignSpec] = []
    period: PlanPeriodSpec | None = None
    phases: list[PhaseSpec] = []
    reports: list[ReportSeriesSpec] = []
    campaign_series: list[CampaignSeriesSpec] = []
    indicators: list[IndicatorSpec] = []
    days_off: dict[date, str] = {}
    working_days: dict[date, str] = {}
    reminders: ReminderSettings = ReminderSettings()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # --- units ---------------------------------------------------------------------------------

    def units(self) -> Iterator[tuple[ResponsibilitySpec, UnitSpec]]:
        """Every unit with its item, in file order (a CSV's units where the item names it)."""
        for responsibility in self.responsibilities:
            for unit in responsibility.units:
                yield responsibility, unit

    def unit(self, code: str) -> UnitSpec | None:
        return next((unit for _, unit in self.units() if unit.code == code), None)

    def section_of(self, code: str) -> str | None:
        """The item of section IV a unit of the file belongs to."""
        return next((r.section for r, unit in self.units() if unit.code == code), None)

    def unit_selection(self, refs: Sequence[str] | None) -> UnitSelection:
        """Unit codes and items of section IV → (unit codes, items named); None: every unit.

        The coordinator receives the reports: it is never among the codes.
        """
        if refs is None:
            return None, frozenset()
        by_section = {r.section: [unit.code for unit in r.units] for r in self.responsibilities}
        codes: set[str] = set()
        sections: set[str] = set()
        for ref in refs:
            if ref in by_section:
                sections.add(ref)
                codes.update(by_section[ref])
            else:
                codes.add(ref)
        codes.discard(self.coordinator)
        return frozenset(codes), frozenset(sections)

    # --- time ----------------------------------------------------------------------------------

    @property
    def frame(self) -> Frame:
        """The plan's period and date of issue (format 1: from issue to ``ends_on``)."""
        if self.period is None:
            return Frame(self.issued_on, self.ends_on, self.issued_on)
        return Frame(self.period.from_, self.period.to, self.issued_on)

    @property
    def starts_on(self) -> date:
        """Format 2: the first day of ``period``; format 1: the date of issue."""
        return self.period.from_ if self.period is not None else self.issued_on

    @property
    def ends_on(self) -> date:
        """Format 2: the last day of ``period``, or the last day on time of a report due after
        it; format 1: 31/12 of the year of the last deadline or campaign end."""
        if self.period is None:
            last = max(
                [d.due_before for d in self.deadlines] + [c.ends_on for c in self.campaigns],
                default=self.issued_on,
            )
            return date(last.year, 12, 31)
        return max(
            [self.period.to]
            + [p.last_day_on_time for p in self.reporting_periods()]
            + [run.ends_on for run in self.campaign_runs()]
        )

    def reporting_periods(self) -> list[PeriodSpec]:
        """Every concrete reporting period, by due date then code."""
        if self.period is None:
            periods = [
                PeriodSpec(
                    code=deadline.code,
                    series=deadline.code,
                    title=deadline.title,
                    due_before=deadline.due_before,
                    due_text=f"trước ngày {deadline.due_before:%d/%m/%Y}",
                    rule="before",
                    covers_from=self.issued_on,
                    covers_to=max(self.issued_on, deadline.due_before - DAY),
                )
                for deadline in self.deadlines
            ]
            return sorted(periods, key=lambda period: (period.due_before, period.code))
        return expand_periods(
            self.reports, self.campaign_series, self.phases, self.frame, self.unit_selection
        )

    def campaign_runs(self) -> list[CampaignRunSpec]:
        """Every concrete run of a campaign, by start then code."""
        if self.period is None:
            runs = [
                CampaignRunSpec(
                    code=c.code,
                    series=c.code,
                    section=c.section,
                    title=c.title,
                    starts_on=c.starts_on,
                    ends_on=c.ends_on,
                )
                for c in self.campaigns
            ]
            return sorted(runs, key=lambda run: (run.starts_on, run.code))
        return expand_runs(self.campaign_series, self.frame)

    # --- who owes what -------------------------------------------------------------------------

    def owes(self, unit_code: str, period: PeriodSpec, *, section: str | None = None) -> bool:
        """Whether the unit must report for ``period``; the coordinator never does.

        ``section``: the item of a unit that is not in the file (the coordinator added it to
        an open item), for periods asked of that item.
        """
        if unit_code == self.coordinator:
            return False
        if period.unit_codes is None:
            return True
        return unit_code in period.unit_codes or (
            section is not None and section in period.sections
        )

    def indicator_applies(
        self,
        indicator: IndicatorSpec,
        unit_code: str,
        period: PeriodSpec,
        *,
        section: str | None = None,
    ) -> bool:
        """Whether the unit gives ``indicator``'s value in its report for ``period``."""
        if indicator.reports is not None and period.series not in indicator.reports:
            return False
        if not self.owes(unit_code, period, section=section):
            return False
        if indicator.reported_by is None or unit_code in indicator.reported_by:
            return True
        return (section or self.section_of(unit_code)) in indicator.reported_by
