"""The coordinator's view of the whole plan: the overview, the overdue list, the Excel export.

A plan of up to ~30 units gets the whole unit × period matrix; a larger one (a province after
2025 names 60–150 communes) a summary with filters and pages (see :mod:`overview_scope` and
:mod:`overview_render`), so that no answer runs to dozens of messages.

The overview text is also the coordinator's digest, which the scheduler sends through
:func:`compose_digest` (passed in by the composition root: the scheduler does no wording of
the coordinator's views).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from sqlmodel import Session

from bot import texts
from bot.charts import overview_charts
from bot.dialog.conversation import parse_action_payload
from bot.dialog.dashboard import dashboard_buttons
from bot.dialog.events import DocumentReply
from bot.dialog.indicator_text import plan_indicator_lines
from bot.dialog.overview_read import focused_count, read_blocked, read_summary
from bot.dialog.overview_render import (
    LEGEND,
    CommandLine,
    blocked_text,
    cell_symbol,
    digest_text,
    fits_matrix,
    overdue_text,
    overview_text,
    page_buttons,
    summary_text,
)
from bot.dialog.overview_scope import (
    KIND_WORD,
    MATRIX_LIMIT,
    Focus,
    Selection,
    UnknownFilter,
    parse_selection,
)
from bot.dialog.plan_choice import may_use, plans_in_scope
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from bot.dialog.validation import whole_number
from bot.export import XLSX_MIME, build_workbook
from scheduler.messages import Picture
from scheduler.reminders import Digest
from storage import indicator_standing, overview_counts, people, plans, read_models, reports
from storage.formats import fmt_datetime
from storage.indicator_standing import Standing
from storage.models import Plan, ReportingPeriod, ReportStatus
from storage.read_models import Overview, OverviewRow, PeriodStats, Totals

__all__ = ["LEGEND", "cell_symbol", "compose_digest", "digest_text", "overview_text", "router"]

log = logging.getLogger(__name__)
router = Router("overview")

OVERVIEW = "tonghop"
OVERDUE = "quahan"
FOCUSES = {OVERVIEW: tuple(Focus), OVERDUE: (Focus.OVERDUE, Focus.BLOCKED)}


@router.command(
    OVERVIEW,
    role=Role.COORDINATOR,
    usage="/tonghop [LỌC] [trang N]",
    help=(
        "bảng tổng hợp đơn vị × kỳ báo cáo, tỷ lệ đã báo cáo (trên 30 đơn vị: bản tóm tắt, theo "
        "trang); LỌC: quahan, vuongmac, tatca hoặc loại đơn vị so, xa, huyen, doanthe, baochi, "
        "khac, ví dụ /tonghop quahan xa"
    ),
    menu="Bảng tổng hợp báo cáo",
    plan=PlanScope.COORDINATED,
)
def show_overview(turn: Turn) -> None:
    """/tonghop: the matrix (or, for many units, the summary) with each period's rate."""
    selection = _typed_selection(turn, OVERVIEW)
    if selection is not None:
        _answer_overview(turn, selection, charts=True)


@router.action(OVERVIEW)
def overview_page(turn: Turn) -> None:
    """«Trang sau ▶» under a summary: the page it names."""
    selection = _pressed_selection(turn, OVERVIEW)
    if selection is not None:
        _answer_overview(turn, selection, charts=False)


def _totals(turn: Turn, selection: Selection) -> Totals:
    return overview_counts.overview_totals(
        turn.session, plan=turn.current_plan, now=turn.now, kinds=selection.kinds
    )


def _answer_overview(turn: Turn, selection: Selection, *, charts: bool) -> None:
    """The matrix or the summary; ``charts``: then the pictures (not again when paging). A
    large plan is read as counts and one page of units."""
    totals = _totals(turn, selection)
    whole_plan = not selection.filtered and selection.page == 1
    pictures = charts and selection.focus is None and selection.page == 1
    standings = (
        indicator_standing.indicator_standings(turn.session, plan_id=turn.plan_id)
        if whole_plan or pictures
        else []
    )
    sections = _indicator_sections(standings) if whole_plan else []
    pictured: Overview | Totals = totals
    if fits_matrix(totals, selection):
        pictured = data = overview_counts.full_overview(turn.session, totals)
        text = overview_text(data, kinds=selection.kinds, sections=sections)
        turn.say(text, dashboard_buttons(turn), numbered=False)
    else:
        command = _command_line(turn, OVERVIEW)
        focus = selection.focus or Focus.ATTENTION
        summary = read_summary(
            turn.session, totals, kinds=selection.kinds, focus=focus, number=selection.page
        )
        buttons = page_buttons(OVERVIEW, turn.plan_id, selection, summary.page, command)
        text = summary_text(summary, selection, command, sections=sections)
        turn.say(text, (*buttons, *dashboard_buttons(turn)), numbered=False)
    if pictures:
        for chart in overview_charts(turn.session, pictured, standings):
            turn.reply(chart)


def _indicator_sections(standings: Sequence[Standing]) -> list[str]:
    """The plan's indicators against their targets (the whole plan: shown without filters)."""
    section = "\n".join(plan_indicator_lines(standings)).strip("\n")
    return [section] if section else []


@router.command(
    OVERDUE,
    role=Role.COORDINATOR,
    usage="/quahan [vuongmac] [LOẠI] [trang N]",
    help=(
        "đơn vị quá hạn chưa nộp (kèm đầu mối) và đơn vị gặp vướng mắc; /quahan vuongmac: nội "
        "dung vướng mắc; LOẠI: so, xa, huyen, doanthe, baochi, khac"
    ),
    menu="Đơn vị quá hạn, gặp vướng mắc",
    plan=PlanScope.COORDINATED,
)
def show_overdue(turn: Turn) -> None:
    """/quahan: units past a due date without a report, and units reporting problems."""
    selection = _typed_selection(turn, OVERDUE)
    if selection is not None:
        _answer_overdue(turn, selection)


@router.action(OVERDUE)
def overdue_page(turn: Turn) -> None:
    """«Trang sau ▶» under the overdue list: the page it names."""
    selection = _pressed_selection(turn, OVERDUE)
    if selection is not None:
        _answer_overdue(turn, selection)


def _answer_overdue(turn: Turn, selection: Selection) -> None:
    totals = _totals(turn, selection)
    if selection.focus == Focus.BLOCKED:
        _answer_blocked(turn, totals, selection)
    elif not (selection.filtered or selection.page > 1 or totals.units > MATRIX_LIMIT):
        _answer_overdue_in_full(turn, overview_counts.full_overview(turn.session, totals))
    elif not any(turn.now >= stats.due_at for stats in totals.stats):
        _answer_nothing_overdue(turn, totals, selection)
    else:
        _answer_overdue_page(turn, totals, selection)


def _answer_overdue_page(turn: Turn, totals: Totals, selection: Selection) -> None:
    """One page of the overdue units, with the focal points of that page only."""
    command = _command_line(turn, OVERDUE)
    kinds = selection.kinds
    page = read_summary(
        turn.session, totals, kinds=kinds, focus=Focus.OVERDUE, number=selection.page
    ).page
    text = overdue_text(
        totals,
        selection,
        command,
        page=page,
        contacts=_contacts(turn, [row.unit.organisation_id for row in page.items]),
        blocked=focused_count(turn.session, totals, kinds=kinds, focus=Focus.BLOCKED),
    )
    turn.say(text, page_buttons(OVERDUE, turn.plan_id, selection, page, command), numbered=False)


def _answer_blocked(turn: Turn, totals: Totals, selection: Selection) -> None:
    """One page of the problems units report, with what they wrote."""
    command = _command_line(turn, OVERDUE)
    page = read_blocked(turn.session, totals, kinds=selection.kinds, number=selection.page)
    updates = reports.status_updates_by_id(
        turn.session, [latest.status_update_id for _, _, latest in page.items]
    )
    notes = {update_id: update.note or "" for update_id, update in updates.items()}
    text = blocked_text(totals, selection, command, page=page, notes=notes)
    turn.say(text, page_buttons(OVERDUE, turn.plan_id, selection, page, command), numbered=False)


def _answer_overdue_in_full(turn: Turn, data: Overview) -> None:
    """Every overdue unit by period, with contacts, then the problems (a plan of few units)."""
    past = [stats for stats in data.stats if turn.now >= stats.due_at]
    if past:
        lines = ["⏰ ĐƠN VỊ QUÁ HẠN CHƯA NỘP BÁO CÁO"]
        contacts = _contacts(turn, [row.unit.organisation_id for row in data.rows])
        for stats in past:
            lines += ["", *_overdue_lines(stats, data.rows, contacts)]
    else:
        lines = [_nothing_overdue(turn, data)]
    lines += _blocked_lines(turn, data)
    turn.say("\n".join(lines))


def _answer_nothing_overdue(turn: Turn, totals: Totals, selection: Selection) -> None:
    """No period is past due yet (a large plan): say so, and count the problems reported."""
    lines = [_nothing_overdue(turn, totals)]
    blocked = focused_count(turn.session, totals, kinds=selection.kinds, focus=Focus.BLOCKED)
    if blocked:
        words = Selection(focus=Focus.BLOCKED, kinds=selection.kinds).words()
        typed = _command_line(turn, OVERDUE).typed(words)
        lines.append(texts.OVERDUE_BLOCKED_COUNT.format(count=blocked, command=typed))
    turn.say("\n".join(lines))


def _nothing_overdue(turn: Turn, data: Overview | Totals) -> str:
    upcoming = [s for s in data.stats if turn.now < s.due_at]
    next_due = (
        f"{upcoming[0].period.title}, {upcoming[0].period.due_text}" if upcoming else "không còn"
    )
    return texts.NOTHING_OVERDUE.format(next=next_due)


# --- the words after the command, and the buttons that carry them --------------------------------


def _typed_selection(turn: Turn, command: str) -> Selection | None:
    """The filters typed after the command (the plan number is taken by then); None when a word
    is not one (the user is told which words there are)."""
    try:
        return parse_selection(turn.event.args, focuses=FOCUSES[command])
    except UnknownFilter as problem:
        turn.say(_filter_help(turn, command, problem.word))
        return None


def _pressed_selection(turn: Turn, command: str) -> Selection | None:
    """The plan and selection a page button carries (``<plan id>-<words>``); None when the
    button is refused."""
    if not turn.is_coordinator:
        turn.refuse_button(
            texts.COORDINATOR_ONLY.format(command=command, coordinator=turn.coordinator_name)
        )
        return None
    action = parse_action_payload(turn.event.payload or "")
    plan_id, *words = action[1].split("-") if action is not None else [""]
    number = whole_number(plan_id)
    plan = plans.plan_by_id(turn.session, number) if number is not None else None
    if plan is None or not may_use(turn, PlanScope.COORDINATED, plan):
        turn.refuse_button(texts.FORGED_BUTTON)
        return None
    turn.plan = plan
    try:
        return parse_selection(words, focuses=FOCUSES[command])
    except UnknownFilter:
        turn.refuse_button(texts.FORGED_BUTTON)
        return None


def _filter_help(turn: Turn, command: str, word: str) -> str:
    focuses = [focus for focus in FOCUSES[command] if focus != Focus.ATTENTION]
    choices = [
        texts.FILTER_FOCUS_CHOICE.format(word=focus.value, meaning=texts.FOCUS_HELP[focus.value])
        for focus in focuses
    ]
    choices.append(
        texts.FILTER_KIND_CHOICE.format(
            words=", ".join(KIND_WORD.values()),
            kinds="; ".join(texts.KIND_LABELS[kind] for kind in KIND_WORD),
        )
    )
    example = f"{focuses[-1].value} xa" if command == OVERVIEW else "xa trang 2"
    plan = texts.FILTER_UNKNOWN_PLAN.format(word=word[:40]) if "/" in word else ""
    return plan + texts.FILTER_UNKNOWN.format(
        command=command,
        word=word[:40],
        choices="\n".join(choices),
        example=example,
        number=turn.current_plan.number,
    )


def _command_line(turn: Turn, name: str) -> CommandLine:
    """The command as the user types it: with the plan number unless it is the only one."""
    followed = plans_in_scope(turn, PlanScope.COORDINATED)
    alone = [plan.id for plan in followed] == [turn.plan_id]
    dashboard = turn.settings.dashboard is not None
    return CommandLine(name, "" if alone else turn.current_plan.number, dashboard=dashboard)


def _contacts(turn: Turn, organisation_ids: Sequence[int]) -> dict[int, list[str]]:
    """Name and phone of every focal point answering in the plan for ``organisation_ids``."""
    contacts: dict[int, list[str]] = {}
    for fp in people.focal_points_of(
        turn.session, organisation_ids=organisation_ids, plan_id=turn.plan_id
    ):
        contacts.setdefault(fp.organisation_id, []).append(f"{fp.full_name} {fp.phone}")
    return contacts


def _overdue_lines(
    stats: PeriodStats, rows: list[OverviewRow], contacts: dict[int, list[str]]
) -> list[str]:
    period = stats.period
    assert period.id is not None
    late = [row for row in rows if row.cells[period.id].overdue]
    lines = [f"{period.title} (hạn {period.due_text}) — {len(late)}/{stats.total} đơn vị:"]
    if not late:
        lines.append("• Tất cả đơn vị đã nộp. 👍")
    for row in late:
        who = "; ".join(contacts.get(row.unit.organisation_id, [])) or "chưa có đầu mối"
        lines.append(f"• {row.unit.short_name} [{row.unit.code}]: {who}")
    return lines


def _blocked_lines(turn: Turn, data: Overview) -> list[str]:
    """Units whose latest report says they are stuck, with what they wrote."""
    blocked = [
        (row, period, cell.latest)
        for row in data.rows
        for period in data.periods
        if (cell := row.cells[period.id or 0]).latest is not None
        and ReportStatus(cell.latest.status) == ReportStatus.BLOCKED
    ]
    notes = reports.status_updates_by_id(
        turn.session, [latest.status_update_id for _, _, latest in blocked if latest]
    )
    lines = []
    for row, period, latest in blocked:
        assert latest is not None
        update = notes.get(latest.status_update_id)
        lines.append(
            f"• {row.unit.short_name} — {period.title} "
            f"({fmt_datetime(latest.reported_at, turn.zone)}): {update.note if update else ''}"
        )
    return ["", "⚠️ ĐƠN VỊ BÁO GẶP VƯỚNG MẮC", *lines] if lines else []


@router.command(
    "xuat",
    role=Role.COORDINATOR,
    help="tải tệp Excel tổng hợp",
    menu="Tải tệp Excel tổng hợp",
    plan=PlanScope.COORDINATED,
)
def export(turn: Turn) -> None:
    """/xuat: the Excel workbook of the whole plan, made once the turn has committed (a million
    rows read in a turn would hold up every other chat's turn on SQLite)."""
    plan = turn.current_plan
    stamp = turn.now.astimezone(turn.zone).strftime("%Y%m%d-%H%M")
    turn.reply(
        DocumentReply(
            filename=f"tong-hop-{plan.code}-{stamp}.xlsx",
            made_by=partial(workbook_of, plan_id=plan.id or 0, now=turn.now),
            mime_type=XLSX_MIME,
            caption=texts.EXPORT_CAPTION.format(
                number=plan.number, time=fmt_datetime(turn.now, turn.zone)
            ),
        )
    )


def workbook_of(session: Session, *, plan_id: int, now: datetime) -> bytes:
    """The workbook of the plan as it stands in ``session``'s read."""
    plan = session.get(Plan, plan_id)
    assert plan is not None, "a plan is never deleted"
    return build_workbook(session, plan=plan, now=now)


def compose_digest(
    session: Session, *, plan: Plan, now: datetime, period: ReportingPeriod | None
) -> Digest:
    """The digest the scheduler sends the coordinators (see scheduler.reminders): the text,
    then the charts /tonghop shows. A chart that cannot be drawn costs the pictures, never the
    text."""
    totals = overview_counts.overview_totals(session, plan=plan, now=now)
    several = [p.id for p in plans.active_plans(session)] not in ([], [plan.id])
    command = CommandLine(OVERVIEW, plan.number if several else "")
    pictured: Overview | Totals = totals
    if fits_matrix(totals, Selection()):
        pictured = overview = read_models.overview(session, plan=plan, now=now)
        text = digest_text(overview, period=period, command=command)
    else:
        summary = read_summary(session, totals, kinds=(), focus=Focus.ATTENTION, number=1)
        text = digest_text(summary, period=period, command=command)
    try:
        charts = overview_charts(session, pictured)
    except Exception:
        log.exception("the digest's charts of plan %s could not be drawn; text only", plan.code)
        return Digest(text)
    pictures = tuple(Picture(c.filename, c.content or b"", c.caption) for c in charts)
    return Digest(text, pictures)
