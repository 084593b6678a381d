"""The coordinator's view of the whole plan: the overview, the overdue list, the Excel export.

The overview text is also the coordinator's digest, which the scheduler sends through
:func:`compose_digest` (passed in by the composition root: the scheduler does no wording of
the coordinator's views).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.dialog.events import DocumentReply
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from bot.export import XLSX_MIME, build_workbook
from storage import people, read_models
from storage.formats import fmt_date, fmt_datetime, percent
from storage.models import Deadline, Plan, ReportStatus
from storage.read_models import Cell, DeadlineStats, Overview, OverviewRow

STATUS_SYMBOLS: dict[ReportStatus, str] = {
    ReportStatus.NOT_STARTED: "⏸",
    ReportStatus.IN_PROGRESS: "🔄",
    ReportStatus.DONE: "✅",
    ReportStatus.BLOCKED: "⚠️",
}
OVERDUE_SYMBOL = "❌"
NOT_YET_SYMBOL = "⬜"
LEGEND = (
    "Ký hiệu: ✅ hoàn thành · 🔄 đang triển khai · ⏸ chưa triển khai · ⚠️ gặp vướng mắc · "
    "❌ quá hạn chưa nộp · ⬜ chưa nộp (chưa đến hạn)"
)

router = Router("overview")


@router.command(
    "tonghop",
    role=Role.COORDINATOR,
    help="bảng tổng hợp đơn vị × kỳ báo cáo, tỷ lệ đã báo cáo",
    menu="Bảng tổng hợp báo cáo",
)
def show_overview(turn: Turn) -> None:
    """/tonghop: the agency × deadline matrix with each deadline's reporting rate."""
    turn.say(overview_text(read_models.overview(turn.session, plan=turn.plan, now=turn.now)))


@router.command(
    "quahan",
    role=Role.COORDINATOR,
    help="các đơn vị quá hạn chưa nộp và đơn vị gặp vướng mắc",
    menu="Đơn vị quá hạn, gặp vướng mắc",
)
def show_overdue(turn: Turn) -> None:
    """/quahan: agencies past a deadline without a report, and agencies reporting problems."""
    data = read_models.overview(turn.session, plan=turn.plan, now=turn.now)
    past = [stats for stats in data.stats if turn.now >= stats.due_at]
    if past:
        lines = ["⏰ ĐƠN VỊ QUÁ HẠN CHƯA NỘP BÁO CÁO"]
        contacts = _contacts(turn, data)
        for stats in past:
            lines += ["", *_overdue_lines(stats, data.rows, contacts)]
    else:
        upcoming = [s for s in data.stats if turn.now < s.due_at]
        next_due = (
            f"{upcoming[0].deadline.title}, trước {fmt_date(upcoming[0].deadline.due_before)}"
            if upcoming
            else "không còn"
        )
        lines = [texts.NOTHING_OVERDUE.format(next=next_due)]
    lines += _blocked_lines(data, ZoneInfo(turn.plan.timezone))
    turn.say("\n".join(lines))


def _contacts(turn: Turn, data: Overview) -> dict[int, list[str]]:
    """Name and phone of every focal point, by agency id."""
    agency_ids = [row.agency.id for row in data.rows if row.agency.id]
    contacts: dict[int, list[str]] = {}
    for fp in people.focal_points_of(turn.session, agency_ids=agency_ids):
        contacts.setdefault(fp.agency_id, []).append(f"{fp.full_name} {fp.phone}")
    return contacts


def _overdue_lines(
    stats: DeadlineStats, rows: list[OverviewRow], contacts: dict[int, list[str]]
) -> list[str]:
    deadline = stats.deadline
    assert deadline.id is not None
    late = [row for row in rows if row.cells[deadline.id].overdue]
    lines = [
        f"{deadline.title} (hạn trước {fmt_date(deadline.due_before)}) — "
        f"{len(late)}/{stats.total} đơn vị:"
    ]
    if not late:
        lines.append("• Tất cả đơn vị đã nộp. 👍")
    for row in late:
        who = "; ".join(contacts.get(row.agency.id or 0, [])) or "chưa có đầu mối"
        lines.append(f"• {row.agency.short_name} [{row.agency.code}]: {who}")
    return lines


def _blocked_lines(data: Overview, zone: ZoneInfo) -> list[str]:
    lines = []
    for row in data.rows:
        for deadline in data.deadlines:
            latest = row.cells[deadline.id or 0].latest
            if latest is not None and ReportStatus(latest.status) == ReportStatus.BLOCKED:
                lines.append(
                    f"• {row.agency.short_name} — {deadline.title} "
                    f"({fmt_datetime(latest.created_at, zone)}): {latest.note or ''}"
                )
    return ["", "⚠️ ĐƠN VỊ BÁO GẶP VƯỚNG MẮC", *lines] if lines else []


@router.command(
    "xuat", role=Role.COORDINATOR, help="tải tệp Excel tổng hợp", menu="Tải tệp Excel tổng hợp"
)
def export(turn: Turn) -> None:
    """/xuat: the Excel workbook of the whole plan."""
    zone = ZoneInfo(turn.plan.timezone)
    content = build_workbook(turn.session, plan=turn.plan, now=turn.now)
    stamp = turn.now.astimezone(zone).strftime("%Y%m%d-%H%M")
    turn.reply(
        DocumentReply(
            filename=f"tong-hop-{turn.plan.code}-{stamp}.xlsx",
            content=content,
            mime_type=XLSX_MIME,
            caption=texts.EXPORT_CAPTION.format(
                number=turn.plan.number, time=fmt_datetime(turn.now, zone)
            ),
        )
    )


# --- the overview as text ----------------------------------------------------------------------


def cell_symbol(cell: Cell) -> str:
    if cell.latest is not None:
        return STATUS_SYMBOLS[ReportStatus(cell.latest.status)]
    return OVERDUE_SYMBOL if cell.overdue else NOT_YET_SYMBOL


def _stats_line(index: int, stats: DeadlineStats, now: datetime) -> str:
    deadline = stats.deadline
    line = (
        f"Cột {index}: {deadline.title} (hạn trước {fmt_date(deadline.due_before)})"
        f" — đã nộp {stats.reported}/{stats.total} ({percent(stats.reported, stats.total)})"
    )
    if now >= stats.due_at:
        line += (
            f"; đúng hạn {stats.on_time}, trễ hạn {stats.late}, quá hạn chưa nộp {stats.overdue}"
        )
    return line


def _row_line(row: OverviewRow, deadlines: list[Deadline]) -> str:
    cells = [row.cells[d.id] for d in deadlines if d.id is not None]
    symbols = "".join(cell_symbol(cell) for cell in cells)
    details = [
        f"{cell.latest.progress}%"
        for cell in cells
        if cell.latest is not None and ReportStatus(cell.latest.status) != ReportStatus.DONE
    ]
    suffix = f" ({', '.join(details)})" if details else ""
    if row.focal_point_count == 0:
        suffix += " · chưa có đầu mối"
    return f"{symbols} {row.agency.short_name} [{row.agency.code}]{suffix}"


def overview_text(overview: Overview, *, title: str = "📊 TỔNG HỢP BÁO CÁO") -> str:
    """The agency × deadline matrix with the reporting rate of each deadline."""
    zone = ZoneInfo(overview.plan.timezone)
    lines = [
        f"{title} — Kế hoạch số {overview.plan.number}",
        f"(số liệu lúc {fmt_datetime(overview.now, zone)})",
        "",
    ]
    lines += [_stats_line(i, s, overview.now) for i, s in enumerate(overview.stats, start=1)]
    lines.append("")
    lines += [_row_line(row, overview.deadlines) for row in overview.rows]
    lines += ["", LEGEND]
    return "\n".join(lines)


def digest_text(overview: Overview, *, deadline: Deadline | None) -> str:
    """The coordinator's digest: weekly, or on the day ``deadline`` falls due."""
    title = "📬 BẢN TIN TỔNG HỢP HẰNG TUẦN"
    if deadline is not None:
        title = f"📬 BẢN TIN TỔNG HỢP: HẾT HẠN {deadline.title.upper()}"
    return overview_text(overview, title=title) + "\n" + texts.DIGEST_FOOTER


def compose_digest(
    session: Session, *, plan: Plan, now: datetime, deadline: Deadline | None
) -> str:
    """The digest the scheduler sends the coordinators (see scheduler.reminders)."""
    return digest_text(read_models.overview(session, plan=plan, now=now), deadline=deadline)
