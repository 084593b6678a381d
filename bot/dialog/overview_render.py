"""The coordinator's overview as chat text (pure functions of the read model).

Up to :data:`~bot.dialog.overview_scope.MATRIX_LIMIT` units the overview is the whole unit ×
period matrix. Over that it is a summary that fits one or two messages: each period's totals,
then one page of the units that need attention, then how to see more (filters, pages, /xuat,
the dashboard). ``sections`` are text blocks put after the period totals in both forms: the
place for more figures (the plan's indicators).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog.conversation import action_button
from bot.dialog.events import Button, ButtonRows
from bot.dialog.overview_scope import (
    KIND_WORD,
    MATRIX_LIMIT,
    Focus,
    Page,
    Selection,
    Summary,
    overdue_periods,
    summary_of,
)
from storage.formats import fmt_datetime, percent
from storage.models import ReportingPeriod, ReportStatus
from storage.read_models import Cell, Overview, OverviewRow, PeriodStats, Totals
from storage.reports import LatestRow

STATUS_SYMBOLS: dict[ReportStatus, str] = {
    ReportStatus.NOT_STARTED: "⏸",
    ReportStatus.IN_PROGRESS: "🔄",
    ReportStatus.DONE: "✅",
    ReportStatus.BLOCKED: "⚠️",
}
OVERDUE_SYMBOL = "❌"
NOT_YET_SYMBOL = "⬜"
NOT_OWED_SYMBOL = "➖"
LEGEND = (
    "Ký hiệu: ✅ hoàn thành · 🔄 đang triển khai · ⏸ chưa triển khai · ⚠️ gặp vướng mắc · "
    "❌ quá hạn chưa nộp · ⬜ chưa nộp (chưa đến hạn) · ➖ không phải báo cáo kỳ này"
)
OVERVIEW_TITLE = "📊 TỔNG HỢP BÁO CÁO"
NOTE_LIMIT = 160  # characters of a problem's note in a paged list
PAYLOAD_ARGUMENT_MAX = 50  # what an action button's argument may hold (conversation.py)


@dataclass(frozen=True)
class CommandLine:
    """How the text tells the user to type a command on this plan: ``/tonghop quahan``, or
    ``/tonghop 45/KH-UBND quahan`` when several plans are followed; ``dashboard``: whether
    /dashboard is there to point to."""

    name: str
    plan_number: str = ""
    dashboard: bool = False

    @property
    def elsewhere(self) -> str:
        """Where to see everything: the Excel file, and the dashboard when it is on."""
        return texts.SUMMARY_ELSEWHERE + (texts.SUMMARY_DASHBOARD if self.dashboard else "")

    def typed(self, words: Sequence[str] = ()) -> str:
        plan = [self.plan_number] if self.plan_number else []
        return " ".join([f"/{self.name}", *plan, *words])


def fits_matrix(overview: Overview | Totals, selection: Selection) -> bool:
    """The whole matrix is shown: few units, no focus and the first page."""
    units = overview.units if isinstance(overview, Totals) else len(overview.rows)
    return selection.focus is None and selection.page == 1 and units <= MATRIX_LIMIT


def scope_label(kinds: Collection[str]) -> str:
    return ", ".join(texts.KIND_LABELS.get(kind, kind) for kind in sorted(kinds))


# --- the matrix ---------------------------------------------------------------------------------


def cell_symbol(cell: Cell) -> str:
    if not cell.owed:
        return NOT_OWED_SYMBOL
    if cell.latest is not None:
        return STATUS_SYMBOLS[ReportStatus(cell.latest.status)]
    return OVERDUE_SYMBOL if cell.overdue else NOT_YET_SYMBOL


def stats_line(index: int, stats: PeriodStats, now: datetime) -> str:
    period = stats.period
    line = (
        f"Cột {index}: {period.title} (hạn {period.due_text})"
        f" — đã nộp {stats.reported}/{stats.total} ({percent(stats.reported, stats.total)})"
    )
    if now >= stats.due_at:
        line += (
            f"; đúng hạn {stats.on_time}, trễ hạn {stats.late}, quá hạn chưa nộp {stats.overdue}"
        )
    return line


def row_line(row: OverviewRow, periods: list[ReportingPeriod]) -> str:
    cells = [row.cells[p.id] for p in periods if p.id is not None]
    symbols = "".join(cell_symbol(cell) for cell in cells)
    details = [
        f"{cell.latest.progress}%"
        for cell in cells
        if cell.latest is not None and ReportStatus(cell.latest.status) != ReportStatus.DONE
    ]
    suffix = f" ({', '.join(details)})" if details else ""
    if row.focal_point_count == 0:
        suffix += " · " + texts.NO_CONTACT
    return f"{symbols} {row.unit.short_name} [{row.unit.code}]{suffix}"


def heading(overview: Overview | Totals, title: str, kinds: Collection[str] = ()) -> list[str]:
    scope = f" — {scope_label(kinds)}" if kinds else ""
    return [f"{title} — Kế hoạch số {overview.plan.number}{scope}", stamp_line(overview)]


def stamp_line(overview: Overview | Totals) -> str:
    zone = ZoneInfo(overview.plan.timezone)
    return f"(số liệu lúc {fmt_datetime(overview.now, zone)})"


def overview_text(
    overview: Overview,
    *,
    title: str = OVERVIEW_TITLE,
    kinds: Collection[str] = (),
    sections: Sequence[str] = (),
) -> str:
    """The unit × period matrix with the reporting rate of each period."""
    lines = [*heading(overview, title, kinds), ""]
    lines += [stats_line(i, s, overview.now) for i, s in enumerate(overview.stats, start=1)]
    lines += _sections(sections)
    lines.append("")
    lines += [row_line(row, overview.periods) for row in overview.rows]
    lines += ["", LEGEND]
    return "\n".join(lines)


def _sections(sections: Sequence[str]) -> list[str]:
    return [line for section in sections for line in ("", section)]


# --- the summary of a large plan ----------------------------------------------------------------


def summary_text(
    summary: Summary | Overview,
    selection: Selection,
    command: CommandLine,
    *,
    title: str = OVERVIEW_TITLE,
    sections: Sequence[str] = (),
) -> str:
    """Totals, one page of the units ``selection`` focuses on (those needing attention unless
    asked otherwise), and how to see the rest. ``summary`` holds the selected kinds only (an
    overview read in full is summarised here)."""
    focus = selection.focus or Focus.ATTENTION
    if isinstance(summary, Overview):
        summary = summary_of(summary, focus, selection.page)
    totals, page = summary.totals, summary.page
    lines = heading(totals, title, selection.kinds)
    if page.number == 1:
        if not selection.kinds:
            lines.append(_kinds_line(totals, command, selection))
        lines.append("")
        lines += [stats_line(i, s, totals.now) for i, s in enumerate(totals.stats, start=1)]
        lines += _sections(sections)
    lines += ["", list_header(texts.FOCUS_TITLES[focus.value], page)]
    lines += [row_line(row, totals.periods) for row in page.items] or [texts.SUMMARY_NOBODY]
    lines += more_lines(page, selection, command)
    lines += ["", LEGEND, ""]
    if page.number == 1:
        lines.append(_focus_line(selection, command))
    lines.append(command.elsewhere)
    return "\n".join(lines)


def _kinds_line(totals: Totals, command: CommandLine, selection: Selection) -> str:
    """How many units of each kind, each with the command that shows that kind alone."""
    counts = totals.kinds
    kinds = " · ".join(
        f"{count} {texts.KIND_LABELS.get(kind, kind)}"
        + (f" ({command.typed(_with_kind(selection, kind))})" if len(counts) > 1 else "")
        for kind, count in sorted(counts.items(), key=lambda item: -item[1])
    )
    return texts.UNITS_BY_KIND.format(count=totals.units, kinds=kinds)


def _with_kind(selection: Selection, kind: str) -> list[str]:
    words = [selection.focus.value] if selection.focus is not None else []
    return [*words, KIND_WORD.get(kind, kind)]


def _focus_line(selection: Selection, command: CommandLine) -> str:
    focuses = [focus for focus in Focus if focus != (selection.focus or Focus.ATTENTION)]
    choices = [
        f"{command.typed(Selection(focus=focus, kinds=selection.kinds).words())} "
        f"({texts.FOCUS_HELP[focus.value]})"
        for focus in focuses
        if focus != Focus.ATTENTION or selection.focus is not None
    ]
    overdue = CommandLine("quahan", command.plan_number).typed(_kind_words(selection.kinds))
    choices.append(texts.SUMMARY_OVERDUE_CONTACTS.format(command=overdue))
    return texts.SUMMARY_FILTERS.format(focuses=" · ".join(choices))


def _kind_words(kinds: Collection[str]) -> list[str]:
    return Selection(kinds=frozenset(kinds)).words()


def list_header(title: str, page: Page[object], *, noun: str = "đơn vị") -> str:
    header = texts.SUMMARY_LIST_HEADER.format(title=title, total=page.total, noun=noun)
    if page.pages > 1:
        header += texts.SUMMARY_PAGE.format(
            page=page.number, pages=page.pages, first=page.first, last=page.last
        )
    return header


def more_lines(
    page: Page[object], selection: Selection, command: CommandLine, *, noun: str = "đơn vị"
) -> list[str]:
    """How many follow, and the command for the next page (the page buttons carry the same,
    and the way back)."""
    if not page.has_next:
        return []
    typed = command.typed(selection.words(page=page.number + 1))
    count = page.total - page.last
    return [texts.SUMMARY_MORE.format(count=count, noun=noun, command=typed)]


def page_buttons(
    action: str, plan_id: int, selection: Selection, page: Page[object], command: CommandLine
) -> ButtonRows:
    """«◀ Trang trước» / «Trang sau ▶», each also given as the command to type."""
    buttons: list[Button] = []
    for wanted, label, shown in (
        (page.number - 1, texts.PAGE_PREVIOUS, page.has_previous),
        (page.number + 1, texts.PAGE_NEXT, page.has_next),
    ):
        words = selection.words(page=wanted)
        argument = "-".join([str(plan_id), *words])
        if shown and len(argument) <= PAYLOAD_ARGUMENT_MAX:
            buttons.append(action_button(label, action, argument, typed=command.typed(words)))
    return (tuple(buttons),) if buttons else ()


# --- /quahan of a large plan --------------------------------------------------------------------


def overdue_text(
    overview: Totals,
    selection: Selection,
    command: CommandLine,
    *,
    page: Page[OverviewRow],
    contacts: Mapping[int, Sequence[str]],
    blocked: int,
) -> str:
    """The overdue units of ``overview`` one page at a time, each with its focal points;
    ``contacts`` holds those of the page's organisations, ``blocked`` counts the units reporting
    problems."""
    lines = [
        texts.OVERDUE_TITLE.format(number=overview.plan.number)
        + (f" — {scope_label(selection.kinds)}" if selection.kinds else ""),
        stamp_line(overview),
    ]
    if page.number == 1:
        lines.append("")
        lines += [
            texts.OVERDUE_PERIOD.format(
                index=index,
                title=stats.period.title,
                due=stats.period.due_text,
                late=stats.overdue,
                total=stats.total,
            )
            for index, stats in enumerate(overview.stats, start=1)
            if overview.now >= stats.due_at
        ]
    lines += ["", list_header(texts.FOCUS_TITLES[Focus.OVERDUE.value], page)]
    for row in page.items:
        periods = ", ".join(str(n) for n in overdue_periods(row, overview))
        who = "; ".join(contacts.get(row.unit.organisation_id, [])) or texts.NO_CONTACT
        lines.append(f"• {row.unit.short_name} [{row.unit.code}] — kỳ {periods}: {who}")
    if not page.items:
        lines.append(texts.SUMMARY_NOBODY)
    lines += more_lines(page, selection, command)
    lines.append("")
    if page.number == 1 and blocked:
        words = Selection(focus=Focus.BLOCKED, kinds=selection.kinds).words()
        lines.append(
            texts.OVERDUE_BLOCKED_COUNT.format(count=blocked, command=command.typed(words))
        )
    lines.append(command.elsewhere)
    return "\n".join(lines)


BlockedReport = tuple[OverviewRow, int, LatestRow]  # the unit, the period's number, its report


def blocked_reports(overview: Overview) -> list[BlockedReport]:
    """Every (unit, period) whose latest report says the unit is stuck, in plan order."""
    return [
        (row, number, cell.latest)
        for row in overview.rows
        for number, period in enumerate(overview.periods, start=1)
        if (cell := row.cells[period.id or 0]).latest is not None
        and ReportStatus(cell.latest.status) == ReportStatus.BLOCKED
    ]


def blocked_text(
    overview: Totals,
    selection: Selection,
    command: CommandLine,
    *,
    page: Page[BlockedReport],
    notes: Mapping[int, str],
) -> str:
    """One page of the problems units report, each with what they wrote (cut short)."""
    zone = ZoneInfo(overview.plan.timezone)
    lines = [
        texts.BLOCKED_TITLE.format(number=overview.plan.number)
        + (f" — {scope_label(selection.kinds)}" if selection.kinds else ""),
        stamp_line(overview),
        "",
        list_header(texts.FOCUS_TITLES[Focus.BLOCKED.value], page, noun="báo cáo"),
    ]
    for row, number, latest in page.items:
        note = notes.get(latest.status_update_id, "")
        note = note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 1] + "…"
        lines.append(
            f"• {row.unit.short_name} [{row.unit.code}] — kỳ {number} "
            f"({fmt_datetime(latest.reported_at, zone)}): {note}"
        )
    if not page.items:
        lines.append(texts.SUMMARY_NOBODY)
    lines += more_lines(page, selection, command, noun="báo cáo")
    lines += ["", command.elsewhere]
    return "\n".join(lines)


def digest_text(
    overview: Overview | Summary,
    *,
    period: ReportingPeriod | None,
    command: CommandLine | None = None,
    sections: Sequence[str] = (),
) -> str:
    """The coordinator's digest: weekly, or on the day ``period`` falls due; the summary when
    the plan has many units (given as a :class:`Summary`, or an overview read in full)."""
    title = "📬 BẢN TIN TỔNG HỢP HẰNG TUẦN"
    if period is not None:
        title = f"📬 BẢN TIN TỔNG HỢP: HẾT HẠN {period.title.upper()}"
    if isinstance(overview, Overview) and fits_matrix(overview, Selection()):
        body = overview_text(overview, title=title, sections=sections)
    else:
        command = command or CommandLine("tonghop")
        body = summary_text(overview, Selection(), command, title=title, sections=sections)
    return body + "\n" + texts.DIGEST_FOOTER
