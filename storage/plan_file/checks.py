"""What a plan file can get wrong across its parts: references, duplicates, days that do not fit.

Each check adds ``file:line: path: message`` problems; none stops at the first one, so a user
sees everything to fix at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from storage.plan_file.document import (
    DaySpec,
    PhaseSpec,
    PlanFile1,
    PlanFile2,
    PlanFileBase,
    ReportSeriesSpec,
    ResponsibilitySpec,
    day_of,
)
from storage.plan_file.recurrence import CampaignRunSpec, PeriodSpec
from storage.plan_file.source import Path_, PlanProblem, Problems, where
from storage.plan_file.values import RESPONSIBILITY_PATTERN, parse_date

PERIOD_NAMES = {"half-year": "6 tháng", "quarter": "quý", "month": "tháng"}
MONTHS_IN = {"half-year": 6, "quarter": 3, "month": 1}


def fmt(day: date) -> str:
    return f"{day:%d/%m/%Y}"


@dataclass(frozen=True)
class UnitOrigin:
    """Where a unit is written: a path in the plan file, or a line of a CSV file."""

    code: str
    loc: Path_ | None = None
    csv_file: str = ""
    csv_line: int = 0

    def label(self) -> str:
        return where(self.loc) if self.loc is not None else f"{self.csv_file}:{self.csv_line}"

    def report(self, problems: Problems, message: str) -> None:
        if self.loc is not None:
            problems.add(self.loc, message)
        else:
            problems.extend([PlanProblem(self.csv_file, self.csv_line, f"code: {message}")])


def check_units(
    plan: PlanFileBase, origins: Sequence[Sequence[UnitOrigin]], problems: Problems
) -> None:
    """Items and units are each named once; the coordinator is one of the units."""
    seen_codes: dict[str, UnitOrigin] = {}
    seen_sections: set[str] = set()
    for r_index, responsibility in enumerate(plan.responsibilities):
        if responsibility.section in seen_sections:
            problems.add(
                ("responsibilities", r_index, "section"), f"mục {responsibility.section} bị lặp"
            )
        seen_sections.add(responsibility.section)
        for origin in origins[r_index]:
            if origin.code in seen_codes:
                origin.report(
                    problems, f"mã đơn vị {origin.code} đã dùng ở {seen_codes[origin.code].label()}"
                )
            seen_codes[origin.code] = origin
    if plan.coordinator not in seen_codes:
        problems.add(("coordinator",), f"không có đơn vị nào mang mã {plan.coordinator}")
    for index, item in enumerate(plan.cross_cutting):
        if item.section in seen_sections:
            problems.add(("cross_cutting", index, "section"), f"mục {item.section} bị lặp")
        seen_sections.add(item.section)


def _sections(plan: PlanFileBase) -> set[str]:
    return {r.section for r in plan.responsibilities} | {c.section for c in plan.cross_cutting}


def _unique(
    codes: Sequence[str], kind: str, problems: Problems, seen: set[str] | None = None
) -> None:
    seen = set() if seen is None else seen
    for index, code in enumerate(codes):
        if code in seen:
            problems.add((kind, index, "code"), f"mã {code} bị lặp")
        seen.add(code)


# --- format 1 ------------------------------------------------------------------------------------


def check_format1(plan: PlanFile1, problems: Problems) -> None:
    for index, responsibility in enumerate(plan.responsibilities):
        if responsibility.units_file is not None:
            problems.add(
                ("responsibilities", index, "units_file"), "units_file chỉ dùng được từ format: 2"
            )
        if responsibility.kind == "commune":
            problems.add(
                ("responsibilities", index, "kind"), "kind commune chỉ dùng được từ format: 2"
            )
    _unique([d.code for d in plan.deadlines], "deadlines", problems)
    _unique([c.code for c in plan.campaigns], "campaigns", problems)
    for index, deadline in enumerate(plan.deadlines):
        if deadline.due_before <= plan.issued_on:
            problems.add(
                ("deadlines", index, "due_before"),
                f"hạn {fmt(deadline.due_before)} không sau ngày ban hành {fmt(plan.issued_on)}",
            )
    sections = _sections(plan)
    for index, campaign in enumerate(plan.campaigns):
        if campaign.section not in sections:
            problems.add(
                ("campaigns", index, "section"),
                f"không có mục {campaign.section} trong responsibilities hay cross_cutting",
            )
        if campaign.starts_on < plan.issued_on:
            problems.add(
                ("campaigns", index, "starts_on"),
                f"bắt đầu {fmt(campaign.starts_on)} trước ngày ban hành {fmt(plan.issued_on)}",
            )


# --- format 2: the period, its phases, the calendar ---------------------------------------------


def _check_span(loc: Path_, starts: date, ends: date, problems: Problems) -> bool:
    if ends < starts:
        problems.add((*loc, "to"), f"kết thúc {fmt(ends)} trước khi bắt đầu {fmt(starts)}")
        return False
    return True


def check_period(plan: PlanFile2, problems: Problems) -> None:
    period = plan.period
    period_ok = _check_span(("period",), period.from_, period.to, problems)
    _unique([phase.code for phase in plan.phases], "phases", problems)
    earlier: list[PhaseSpec] = []
    for index, phase in enumerate(plan.phases):
        loc: Path_ = ("phases", index)
        if not _check_span(loc, phase.from_, phase.to, problems):
            continue
        if period_ok and (phase.from_ < period.from_ or phase.to > period.to):
            problems.add(
                (*loc, "from"),
                f"giai đoạn {fmt(phase.from_)} – {fmt(phase.to)} nằm ngoài thời gian kế hoạch "
                f"{fmt(period.from_)} – {fmt(period.to)}",
            )
        for other in earlier:
            if phase.from_ <= other.to and other.from_ <= phase.to:
                problems.add((*loc, "from"), f"trùng thời gian với giai đoạn {other.code}")
        earlier.append(phase)


def check_calendar(plan: PlanFile2, data: Mapping[str, Any], problems: Problems) -> None:
    """A day off is a weekday, a working day a weekend day, and no day is both."""
    raw = data.get("calendar") or {}
    for kind, days in (
        ("days_off", plan.calendar.days_off),
        ("working_days", plan.calendar.working_days),
    ):
        keys = {
            parse_date(key) if isinstance(key, str) else key: key for key in raw.get(kind) or {}
        }
        for day in days:
            loc: Path_ = ("calendar", kind, keys.get(day, day.isoformat()))
            weekend = day.weekday() >= 5
            if kind == "days_off" and weekend:
                problems.add(loc, f"{fmt(day)} là thứ Bảy hoặc Chủ nhật, vốn đã là ngày nghỉ")
            elif kind == "working_days" and not weekend:
                problems.add(
                    loc,
                    f"{fmt(day)} là ngày từ thứ Hai đến thứ Sáu, vốn đã là ngày làm việc "
                    "(working_days dành cho thứ Bảy, Chủ nhật làm bù)",
                )
            if kind == "working_days" and day in plan.calendar.days_off:
                problems.add(loc, f"{fmt(day)} cũng có trong days_off")


# --- format 2: reports ---------------------------------------------------------------------------


def _due_problems(every: str, due: DaySpec, written: Any) -> Iterator[tuple[Path_, str]]:
    """What is wrong with ``due`` for a report ``every`` (paths relative to ``due``)."""
    if every == "once":
        if not isinstance(due.year, int) or not isinstance(due.month, int):
            yield (), "báo cáo một lần (every: once) cần ngày đầy đủ, ví dụ 10/06/2026"
        else:
            try:
                date(due.year, due.month, due.day)
            except ValueError:
                yield (), f"ngày không tồn tại: {due.day}/{due.month}/{due.year}"
    elif every == "year":
        if not isinstance(due.month, int):
            yield ("month",), "báo cáo hằng năm cần tháng cụ thể (1–12), ví dụ due: 10/6"
        if isinstance(due.year, int):
            yield ("year",), "báo cáo hằng năm không ghi năm cụ thể (year: next là năm sau)"
    else:
        name, months = PERIOD_NAMES[every], MONTHS_IN[every]
        if not isinstance(written, dict):
            yield (
                (),
                (
                    f"báo cáo theo {name} ghi hạn dạng {{day: 15, month: last}}: ngày và "
                    "tháng thứ mấy của kỳ (first, last, next là tháng sau kỳ, hoặc một số)"
                ),
            )
            return
        if due.year is not None:
            yield ("year",), f"báo cáo theo {name} không ghi năm; month: next là tháng sau kỳ"
        if isinstance(due.month, int) and due.month > months:
            yield (
                ("month",),
                (
                    f"một kỳ {name} có {months} tháng: month phải từ 1 đến {months}, "
                    "hoặc first, last, next"
                ),
            )


def _after_problems(report: ReportSeriesSpec, plan: PlanFile2) -> Iterator[tuple[Path_, str]]:
    assert report.after is not None
    event = report.after.event
    if report.every not in ("once", "year"):
        yield ("every",), "hạn sau một sự kiện (after) chỉ dùng với every: once hoặc year"
        return
    kind, _, code = event.partition(":")
    if kind == "campaign":
        campaign = next((c for c in plan.campaigns if c.code == code), None)
        if campaign is None:
            yield ("after", "event"), f"không có đợt {code} trong campaigns"
        elif campaign.every != report.every:
            how = "diễn ra hằng năm" if campaign.every == "year" else "chỉ diễn ra một lần"
            yield ("every",), f"đợt {code} {how}: every phải là {campaign.every}"
        return
    if kind == "phase" and not any(phase.code == code for phase in plan.phases):
        yield ("after", "event"), f"không có giai đoạn {code} trong phases"
    if report.every != "once":
        yield ("every",), f"sự kiện {event} chỉ xảy ra một lần: every phải là once"


def _has_label(report: ReportSeriesSpec, plan: PlanFile2) -> bool:
    if report.after is not None and report.after.event.startswith("campaign:"):
        code = report.after.event.removeprefix("campaign:")
        return any(c.code == code and c.every == "year" for c in plan.campaigns)
    return report.every != "once"


def check_title(
    title: str, labelled: bool, loc: Path_, problems: Problems, *, once: str = "báo cáo một lần"
) -> None:
    """``{label}`` is the only placeholder, and only where there is a label to put."""
    for placeholder in re.findall(r"\{[^}]*\}", title):
        if placeholder != "{label}":
            problems.add(
                loc, f"chỉ dùng được {{label}} (nhãn của kỳ) trong tiêu đề, không có {placeholder}"
            )
        elif not labelled:
            problems.add(loc, f"{once} không có nhãn kỳ: bỏ {{label}} khỏi tiêu đề")


def check_unit_refs(
    refs: Sequence[str] | None,
    loc: Path_,
    plan: PlanFileBase,
    responsibilities: Sequence[ResponsibilitySpec],
    problems: Problems,
) -> None:
    """Unit codes and items of section IV named in ``units`` / ``reported_by``."""
    codes = {unit.code for r in responsibilities for unit in r.units}
    sections = {r.section for r in responsibilities}
    seen: set[str] = set()
    for index, ref in enumerate(refs or ()):
        if ref in seen:
            problems.add((*loc, index), f"{ref} bị lặp")
        seen.add(ref)
        if ref == plan.coordinator:
            problems.add((*loc, index), f"{ref} là đơn vị chủ trì: nhận báo cáo, không gửi báo cáo")
        elif re.fullmatch(RESPONSIBILITY_PATTERN, ref):
            if ref not in sections:
                problems.add((*loc, index), f"không có mục {ref} trong responsibilities")
        elif ref not in codes:
            problems.add((*loc, index), f"không có đơn vị nào mang mã {ref}")


def check_reports(
    plan: PlanFile2,
    data: Mapping[str, Any],
    responsibilities: Sequence[ResponsibilitySpec],
    problems: Problems,
) -> None:
    raw_reports = data.get("reports") or []
    for index, report in enumerate(plan.reports):
        loc: Path_ = ("reports", index)
        found: list[tuple[Path_, str]] = []
        if report.due is not None and report.after is not None:
            found.append((("after",), "chỉ khai báo một trong hai: due (hạn theo ngày) hoặc after"))
        elif report.due is not None:
            written = raw_reports[index].get("due")
            found += [
                (("due", *path), text)
                for path, text in _due_problems(report.every, report.due, written)
            ]
        elif report.after is not None:
            found += list(_after_problems(report, plan))
        else:
            found.append(
                ((), "thiếu hạn: due (theo ngày, ví dụ 10/6) hoặc after (sau một sự kiện)")
            )
        for path, message in found:
            problems.add((*loc, *path), message)
        check_title(report.title, _has_label(report, plan), (*loc, "title"), problems)
        check_unit_refs(report.units, (*loc, "units"), plan, responsibilities, problems)


def _first_late_day(report: ReportSeriesSpec, plan: PlanFile2) -> date | None:
    """The first late day of a report that has only one, when it is written as a date."""
    if report.due is not None and report.every == "once":
        named = date(int(report.due.year or 0), int(report.due.month), report.due.day)
    elif report.after is not None and report.after.event == "issued":
        named = plan.issued_on + timedelta(days=report.after.days)
    else:
        return None
    return named + timedelta(days=1) if report.rule == "by" else named


def check_once_reports(plan: PlanFile2, problems: Problems) -> None:
    """A report due once must fall due after the plan is issued (run when the rest is valid)."""
    for index, report in enumerate(plan.reports):
        first_late = _first_late_day(report, plan)
        if first_late is not None and first_late <= plan.issued_on:
            field = "due" if report.due is not None else "after"
            problems.add(
                ("reports", index, field),
                f"hạn (ngày đầu tiên bị trễ {fmt(first_late)}) không sau ngày ban hành "
                f"{fmt(plan.issued_on)}",
            )


# --- format 2: campaigns and indicators ----------------------------------------------------------


def _campaign_day_problems(every: str, day: DaySpec) -> Iterator[tuple[Path_, str]]:
    if not isinstance(day.month, int):
        yield ("month",), "đợt cao điểm ghi tháng cụ thể (1–12)"
    elif every == "year" and day.year is not None:
        yield ("year",), "đợt hằng năm ghi ngày/tháng, không ghi năm: ví dụ 15/11"
    elif every == "once" and not isinstance(day.year, int):
        yield (), "đợt diễn ra một lần ghi ngày đầy đủ, ví dụ 15/11/2026"
    elif every == "once":
        assert isinstance(day.year, int)
        try:
            date(day.year, day.month, day.day)
        except ValueError:
            yield (), f"ngày không tồn tại: {day.day}/{day.month}/{day.year}"


def _check_once_campaign(index: int, plan: PlanFile2, problems: Problems) -> None:
    campaign = plan.campaigns[index]
    starts, ends = day_of(campaign.starts), day_of(campaign.ends)
    loc: Path_ = ("campaigns", index)
    if ends < starts:
        problems.add((*loc, "ends"), f"kết thúc {fmt(ends)} trước khi bắt đầu {fmt(starts)}")
    if starts < plan.issued_on:
        problems.add(
            (*loc, "starts"), f"bắt đầu {fmt(starts)} trước ngày ban hành {fmt(plan.issued_on)}"
        )
    elif not plan.period.from_ <= starts <= plan.period.to:
        problems.add(
            (*loc, "starts"),
            f"bắt đầu {fmt(starts)} ngoài thời gian kế hoạch "
            f"{fmt(plan.period.from_)} – {fmt(plan.period.to)}",
        )


def check_campaigns(plan: PlanFile2, problems: Problems) -> None:
    """Campaign codes, their items, their days; report series codes are unique plan-wide."""
    _unique([c.code for c in plan.campaigns], "campaigns", problems)
    series: set[str] = set()
    _unique([r.code for r in plan.reports], "reports", problems, series)
    sections = _sections(plan)
    for index, campaign in enumerate(plan.campaigns):
        loc: Path_ = ("campaigns", index)
        if campaign.section not in sections:
            problems.add(
                (*loc, "section"),
                f"không có mục {campaign.section} trong responsibilities hay cross_cutting",
            )
        found = [
            ((*loc, field, *path), message)
            for field, day in (("starts", campaign.starts), ("ends", campaign.ends))
            for path, message in _campaign_day_problems(campaign.every, day)
        ]
        for path, message in found:
            problems.add(path, message)
        if campaign.every == "once" and not found:
            _check_once_campaign(index, plan, problems)
        check_title(
            campaign.title,
            campaign.every == "year",
            (*loc, "title"),
            problems,
            once="đợt diễn ra một lần",
        )
        result = campaign.result_report
        if result is not None:
            check_title(
                result.title, campaign.every == "year", (*loc, "result_report", "title"), problems
            )
            if result.code in series:
                problems.add((*loc, "result_report", "code"), f"mã báo cáo {result.code} bị lặp")
            series.add(result.code)


def check_indicators(
    plan: PlanFile2, responsibilities: Sequence[ResponsibilitySpec], problems: Problems
) -> None:
    _unique([i.code for i in plan.indicators], "indicators", problems)
    series = {r.code for r in plan.reports} | {
        c.result_report.code for c in plan.campaigns if c.result_report is not None
    }
    for index, indicator in enumerate(plan.indicators):
        loc: Path_ = ("indicators", index)
        check_unit_refs(
            indicator.reported_by, (*loc, "reported_by"), plan, responsibilities, problems
        )
        for r_index, code in enumerate(indicator.reports or ()):
            if code not in series:
                problems.add((*loc, "reports", r_index), f"không có báo cáo {code} trong reports")


# --- format 2: what the expansion gives ----------------------------------------------------------


def _series_loc(plan: PlanFile2, code: str) -> Path_:
    """Where a report series is declared: in reports, or as a campaign's result report."""
    for index, report in enumerate(plan.reports):
        if report.code == code:
            return ("reports", index, "code")
    for index, campaign in enumerate(plan.campaigns):
        if campaign.result_report is not None and campaign.result_report.code == code:
            return ("campaigns", index, "result_report", "code")
    return ("reports",)


def check_expansion(
    plan: PlanFile2,
    periods: Sequence[PeriodSpec],
    runs: Sequence[CampaignRunSpec],
    problems: Problems,
) -> None:
    """Every series gives at least one period, every campaign one run, and codes differ."""
    span = f"{fmt(plan.period.from_)} – {fmt(plan.period.to)}"
    owners: dict[str, str] = {}
    for period in periods:
        other = owners.setdefault(period.code, period.series)
        if other != period.series:
            problems.add(
                _series_loc(plan, period.series),
                f"kỳ {period.code} trùng mã với một kỳ của báo cáo {other}",
            )
    given = {period.series for period in periods}
    for index, report in enumerate(plan.reports):
        if report.code not in given:
            problems.add(
                ("reports", index, "code"),
                f"không có kỳ báo cáo nào trong thời gian kế hoạch {span} có hạn sau ngày ban hành "
                f"{fmt(plan.issued_on)}",
            )
    run_owners: dict[str, str] = {}
    for run in runs:
        other = run_owners.setdefault(run.code, run.series)
        if other != run.series:
            index = next(i for i, c in enumerate(plan.campaigns) if c.code == run.series)
            problems.add(
                ("campaigns", index, "code"), f"đợt {run.code} trùng mã với một đợt của {other}"
            )
    held = {run.series for run in runs}
    for index, campaign in enumerate(plan.campaigns):
        if campaign.code not in held:
            problems.add(
                ("campaigns", index, "code"),
                f"không có đợt nào bắt đầu trong thời gian kế hoạch {span} từ ngày ban hành "
                f"{fmt(plan.issued_on)}",
            )
