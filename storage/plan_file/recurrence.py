"""Recurring reports and campaigns → concrete reporting periods and campaign runs.

Pure functions of validated specs (see :mod:`.checks` for what they may assume): a report
"trước ngày 10/6 hằng năm" in a 2026–2030 plan becomes five reporting periods, a yearly Action
Month five runs. Codes and labels follow plans/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from storage.plan_file.document import (
    CampaignSeriesSpec,
    DaySpec,
    PhaseSpec,
    ReportSeriesSpec,
    day_of,
)
from storage.plan_file.values import clamped_day

DAY = timedelta(days=1)
LABEL = "{label}"
MONTHS_PER_PERIOD = {"year": 12, "half-year": 6, "quarter": 3, "month": 1}
ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class PeriodSpec:
    """One concrete reporting period ("Báo cáo sơ kết 6 tháng năm 2027") reports attach to.

    ``due_before`` is the first day that is late whatever the rule: "trước ngày 10/06" gives
    10/06, "chậm nhất ngày 15/03" gives 16/03. ``unit_codes`` None: every reporting unit owes
    it; otherwise the units named, with ``sections`` the items of section IV named (so that a
    unit the coordinator adds to an open item later owes it too).
    """

    code: str
    series: str
    title: str
    due_before: date
    due_text: str
    rule: Literal["before", "by"]
    covers_from: date
    covers_to: date
    unit_codes: frozenset[str] | None = None
    sections: frozenset[str] = frozenset()

    @property
    def last_day_on_time(self) -> date:
        return self.due_before - DAY


@dataclass(frozen=True)
class CampaignRunSpec:
    """One run of a campaign (the Action Month of 2026), both end days included."""

    code: str
    series: str
    section: str
    title: str
    starts_on: date
    ends_on: date
    checkins: bool = True
    result_period: str | None = None


@dataclass(frozen=True)
class Frame:
    """What bounds every expansion: the plan's period and its date of issue."""

    starts_on: date
    ends_on: date
    issued_on: date


UnitSelection = tuple[frozenset[str] | None, frozenset[str]]
Resolve = Callable[[Sequence[str] | None], UnitSelection]


def titled(title: str, label: str | None) -> str:
    """The title with the period's label in place of ``{label}``, or after it."""
    if label is None:
        return title
    return title.replace(LABEL, label) if LABEL in title else f"{title} {label}"


# --- reporting periods -----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The span one recurring reporting period covers: a year, a half, a quarter or a month."""

    year: int
    month: int  # its first month
    months: int
    suffix: str
    label: str

    @property
    def starts_on(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def ends_on(self) -> date:
        index = self.year * 12 + self.month - 1 + self.months
        return date(index // 12, index % 12 + 1, 1) - DAY


def _window(every: str, year: int, index: int) -> Window:
    size = MONTHS_PER_PERIOD[every]
    month = 1 + index * size
    if every == "year":
        return Window(year, month, size, f"{year}", f"năm {year}")
    if every == "half-year":
        half = "đầu" if index == 0 else "cuối"
        return Window(year, month, size, f"{year}-h{index + 1}", f"6 tháng {half} năm {year}")
    if every == "quarter":
        return Window(year, month, size, f"{year}-q{index + 1}", f"quý {ROMAN[index]}/{year}")
    return Window(year, month, size, f"{year}-{month:02d}", f"tháng {month}/{year}")


def windows(every: str, frame: Frame) -> Iterator[Window]:
    """Every span of ``every`` that overlaps the plan's period, in time order."""
    for year in range(frame.starts_on.year, frame.ends_on.year + 1):
        for index in range(12 // MONTHS_PER_PERIOD[every]):
            window = _window(every, year, index)
            if window.ends_on >= frame.starts_on and window.starts_on <= frame.ends_on:
                yield window


def due_in(window: Window, every: str, due: DaySpec) -> date:
    """The day the plan names for ``window``: 10/6 of its year, the 15th of its last month…"""
    if every == "year":
        assert isinstance(due.month, int)
        return clamped_day(window.year + (1 if due.year == "next" else 0), due.month, due.day)
    offsets = {"first": 0, "last": window.months - 1, "next": window.months}
    offset = offsets[due.month] if isinstance(due.month, str) else due.month - 1
    index = window.year * 12 + window.month - 1 + offset
    return clamped_day(index // 12, index % 12 + 1, due.day)


@dataclass(frozen=True)
class _Series:
    """What every period of one series shares."""

    code: str
    title: str
    rule: Literal["before", "by"]
    units: UnitSelection

    def last_day_on_time(self, named: date) -> date:
        return named if self.rule == "by" else named - DAY

    def period(
        self, suffix: str | None, label: str | None, named: date, covers: tuple[date, date]
    ) -> PeriodSpec:
        by = self.rule == "by"
        return PeriodSpec(
            code=f"{self.code}-{suffix}" if suffix else self.code,
            series=self.code,
            title=titled(self.title, label),
            due_before=named + DAY if by else named,
            due_text=f"{'chậm nhất ngày' if by else 'trước ngày'} {named:%d/%m/%Y}",
            rule=self.rule,
            covers_from=covers[0],
            covers_to=covers[1],
            unit_codes=self.units[0],
            sections=self.units[1],
        )


def _series_periods(
    report: ReportSeriesSpec,
    series: _Series,
    frame: Frame,
    runs: dict[str, list[tuple[CampaignRunSpec, bool]]],
    phases: dict[str, PhaseSpec],
) -> Iterator[PeriodSpec]:
    if report.after is not None:
        event, days = report.after.event, timedelta(days=report.after.days)
        if event == "issued":
            named = frame.issued_on + days
            last = series.last_day_on_time(named)
            yield series.period(None, None, named, (frame.issued_on, max(frame.issued_on, last)))
        elif event.startswith("phase:"):
            phase = phases[event.removeprefix("phase:")]
            yield series.period(None, None, phase.to + days, (phase.from_, phase.to))
        else:
            yield from _after_runs(series, runs[event.removeprefix("campaign:")], days)
        return
    assert report.due is not None
    if report.every == "once":
        named = day_of(report.due)
        covers_to = max(frame.starts_on, min(series.last_day_on_time(named), frame.ends_on))
        yield series.period(None, None, named, (frame.starts_on, covers_to))
        return
    for window in windows(report.every, frame):
        covers = (max(window.starts_on, frame.starts_on), min(window.ends_on, frame.ends_on))
        yield series.period(
            window.suffix, window.label, due_in(window, report.every, report.due), covers
        )


def _after_runs(
    series: _Series, runs: list[tuple[CampaignRunSpec, bool]], days: timedelta
) -> Iterator[PeriodSpec]:
    """One period per run of a campaign, due ``days`` after the run ends."""
    for run, yearly in runs:
        year = run.starts_on.year
        yield series.period(
            str(year) if yearly else None,
            f"năm {year}" if yearly else None,
            run.ends_on + days,
            (run.starts_on, run.ends_on),
        )


def expand_periods(
    reports: Sequence[ReportSeriesSpec],
    campaigns: Sequence[CampaignSeriesSpec],
    phases: Sequence[PhaseSpec],
    frame: Frame,
    resolve: Resolve,
) -> list[PeriodSpec]:
    """Every reporting period of the plan, by due date then code.

    A period whose first late day is not after the plan's date of issue is left out (a plan
    issued in March owes no report for a January deadline of the same year).
    """
    by_campaign: dict[str, list[tuple[CampaignRunSpec, bool]]] = {c.code: [] for c in campaigns}
    yearly = {c.code: c.every == "year" for c in campaigns}
    for run in expand_runs(campaigns, frame):
        by_campaign[run.series].append((run, yearly[run.series]))
    by_phase = {phase.code: phase for phase in phases}
    periods: list[PeriodSpec] = []
    for report in reports:
        series = _Series(report.code, report.title, report.rule, resolve(report.units))
        periods.extend(_series_periods(report, series, frame, by_campaign, by_phase))
    for campaign in campaigns:
        result = campaign.result_report
        if result is not None:
            series = _Series(result.code, result.title, "before", resolve(None))
            days = timedelta(days=result.days_after)
            periods.extend(_after_runs(series, by_campaign[campaign.code], days))
    kept = [period for period in periods if period.due_before > frame.issued_on]
    return sorted(kept, key=lambda period: (period.due_before, period.code))


# --- campaign runs -------------------------------------------------------------------------------


def expand_runs(campaigns: Sequence[CampaignSeriesSpec], frame: Frame) -> list[CampaignRunSpec]:
    """Every run of the plan's campaigns, by start then code.

    A yearly campaign runs in each year of the plan's period from the date of issue on; a run
    that ends before it starts (15/12 → 15/01) ends in the next year and belongs to the year it
    starts in.
    """
    runs: list[CampaignRunSpec] = []
    for campaign in campaigns:
        result = campaign.result_report
        checkins = campaign.checkins == "weekly"
        if campaign.every == "once":
            runs.append(
                CampaignRunSpec(
                    code=campaign.code,
                    series=campaign.code,
                    section=campaign.section,
                    title=campaign.title,
                    starts_on=day_of(campaign.starts),
                    ends_on=day_of(campaign.ends),
                    checkins=checkins,
                    result_period=result.code if result is not None else None,
                )
            )
            continue
        runs.extend(_yearly_runs(campaign, frame))
    return sorted(runs, key=lambda run: (run.starts_on, run.code))


def _yearly_runs(campaign: CampaignSeriesSpec, frame: Frame) -> Iterator[CampaignRunSpec]:
    starts, ends, result = campaign.starts, campaign.ends, campaign.result_report
    assert isinstance(starts.month, int) and isinstance(ends.month, int)
    wraps = (ends.month, ends.day) < (starts.month, starts.day)
    for year in range(frame.starts_on.year, frame.ends_on.year + 1):
        starts_on = clamped_day(year, starts.month, starts.day)
        if not frame.starts_on <= starts_on <= frame.ends_on or starts_on < frame.issued_on:
            continue
        yield CampaignRunSpec(
            code=f"{campaign.code}-{year}",
            series=campaign.code,
            section=campaign.section,
            title=titled(campaign.title, f"năm {year}"),
            starts_on=starts_on,
            ends_on=clamped_day(year + 1 if wraps else year, ends.month, ends.day),
            checkins=campaign.checkins == "weekly",
            result_period=f"{result.code}-{year}" if result is not None else None,
        )
