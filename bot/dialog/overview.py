"""The coordinator's view of the whole plan: the overview, the overdue list, the Excel export.

The overview text is also the coordinator's digest, which the scheduler sends through
:func:`compose_digest` (passed in by the composition root: the scheduler does no wording of
the coordinator's views).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.charts import overview_charts
from bot.dialog.dashboard import dashboard_buttons
from bot.dialog.events import DocumentReply
from bot.dialog.indicator_text import plan_indicator_lines
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from bot.export import XLSX_MIME, build_workbook
from scheduler.messages import Picture
from scheduler.reminders import Digest
from storage import indicator_standing, people, read_models, reports
from storage.formats import fmt_datetime, percent
from storage.models import Plan, ReportingPeriod, ReportStatus
from storage.read_models import Cell, Overview, OverviewRow, PeriodStats

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

log = logging.getLogger(__name__)
router = Router("overview")


@router.command(
    "tonghop",
    role=Role.COORDINATOR,
    help="bảng tổng hợp đơn vị × kỳ báo cáo, tỷ lệ đã báo cáo",
    menu="Bảng tổng hợp báo cáo",
    plan=PlanScope.COORDINATED,
)
def show_overview(turn: Turn) -> None:
    """/tonghop: the unit × period matrix with each period's reporting rate, then its charts."""
    data = read_models.overview(turn.session, plan=turn.current_plan, now=turn.now)
    standings = indicator_standing.indicator_standings(turn.session, plan_id=turn.plan_id)
    text = "\n".join([overview_text(data), *plan_indicator_lines(standings)])
    turn.say(text, dashboard_buttons(turn), numbered=False)
    for chart in overview_charts(turn.session, data):
        turn.reply(chart)


@router.command(
    "quahan",
    role=Role.COORDINATOR,
    help="các đơn vị quá hạn chưa nộp và đơn vị gặp vướng mắc",
    menu="Đơn vị quá hạn, gặp vướng mắc",
    plan=PlanScope.COORDINATED,
)
def show_overdue(turn: Turn) -> None:
    """/quahan: units past a due date without a report, and units reporting problems."""
    data = read_models.overview(turn.session, plan=turn.current_plan, now=turn.now)
    past = [stats for stats in data.stats if turn.now >= stats.due_at]
    if past:
        lines = ["⏰ ĐƠN VỊ QUÁ HẠN CHƯA NỘP BÁO CÁO"]
        contacts = _contacts(turn, data)
        for stats in past:
            lines += ["", *_overdue_lines(stats, data.rows, contacts)]
    else:
        upcoming = [s for s in data.stats if turn.now < s.due_at]
        next_due = (
            f"{upcoming[0].period.title}, {upcoming[0].period.due_text}"
            if upcoming
            else "không còn"
        )
        lines = [texts.NOTHING_OVERDUE.format(next=next_due)]
    lines += _blocked_lines(turn, data)
    turn.say("\n".join(lines))


def _contacts(turn: Turn, data: Overview) -> dict[int, list[str]]:
    """Name and phone of every focal point answering in the plan, by organisation id."""
    organisation_ids = [row.unit.organisation_id for row in data.rows]
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
    """/xuat: the Excel workbook of the whole plan."""
    plan = turn.current_plan
    content = build_workbook(turn.session, plan=plan, now=turn.now)
    stamp = turn.now.astimezone(turn.zone).strftime("%Y%m%d-%H%M")
    turn.reply(
        DocumentReply(
            filename=f"tong-hop-{plan.code}-{stamp}.xlsx",
            content=content,
            mime_type=XLSX_MIME,
            caption=texts.EXPORT_CAPTION.format(
                number=plan.number, time=fmt_datetime(turn.now, turn.zone)
            ),
        )
    )


# --- the overview as text ----------------------------------------------------------------------


def cell_symbol(cell: Cell) -> str:
    if not cell.owed:
        return NOT_OWED_SYMBOL
    if cell.latest is not None:
        return STATUS_SYMBOLS[ReportStatus(cell.latest.status)]
    return OVERDUE_SYMBOL if cell.overdue else NOT_YET_SYMBOL


def _stats_line(index: int, stats: PeriodStats, now: datetime) -> str:
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


def _row_line(row: OverviewRow, periods: list[ReportingPeriod]) -> str:
    cells = [row.cells[p.id] for p in periods if p.id is not None]
    symbols = "".join(cell_symbol(cell) for cell in cells)
    details = [
        f"{cell.latest.progress}%"
        for cell in cells
        if cell.latest is not None and ReportStatus(cell.latest.status) != ReportStatus.DONE
    ]
    suffix = f" ({', '.join(details)})" if details else ""
    if row.focal_point_count == 0:
        suffix += " · chưa có đầu mối"
    return f"{symbols} {row.unit.short_name} [{row.unit.code}]{suffix}"


def overview_text(overview: Overview, *, title: str = "📊 TỔNG HỢP BÁO CÁO") -> str:
    """The unit × period matrix with the reporting rate of each period."""
    zone = ZoneInfo(overview.plan.timezone)
    lines = [
        f"{title} — Kế hoạch số {overview.plan.number}",
        f"(số liệu lúc {fmt_datetime(overview.now, zone)})",
        "",
    ]
    lines += [_stats_line(i, s, overview.now) for i, s in enumerate(overview.stats, start=1)]
    lines.append("")
    lines += [_row_line(row, overview.periods) for row in overview.rows]
    lines += ["", LEGEND]
    return "\n".join(lines)


def digest_text(overview: Overview, *, period: ReportingPeriod | None) -> str:
    """The coordinator's digest: weekly, or on the day ``period`` falls due."""
    title = "📬 BẢN TIN TỔNG HỢP HẰNG TUẦN"
    if period is not None:
        title = f"📬 BẢN TIN TỔNG HỢP: HẾT HẠN {period.title.upper()}"
    return overview_text(overview, title=title) + "\n" + texts.DIGEST_FOOTER


def compose_digest(
    session: Session, *, plan: Plan, now: datetime, period: ReportingPeriod | None
) -> Digest:
    """The digest the scheduler sends the coordinators (see scheduler.reminders): the text,
    then the charts /tonghop shows. A chart that cannot be drawn costs the pictures, never the
    text."""
    overview = read_models.overview(session, plan=plan, now=now)
    text = digest_text(overview, period=period)
    try:
        charts = overview_charts(session, overview)
    except Exception:
        log.exception("the digest's charts of plan %s could not be drawn; text only", plan.code)
        return Digest(text)
    pictures = tuple(Picture(c.filename, c.content or b"", c.caption) for c in charts)
    return Digest(text, pictures)
