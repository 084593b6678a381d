"""What a focal point can look at: their agency's tasks and their agency's reports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.dialog.report_files import file_buttons
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from storage import plans, reports
from storage.formats import fmt_date, fmt_datetime
from storage.models import Deadline, ReportStatus, StatusUpdate

HISTORY_LIMIT = 10

router = Router("focal_point")


@router.command(
    "tinhhinh",
    role=Role.FOCAL_POINT,
    help="xem các báo cáo đã gửi của đơn vị",
    menu="Xem báo cáo đã gửi của đơn vị",
)
def show_status(turn: Turn) -> None:
    """/tinhhinh: the agency's latest report for each deadline and its recent history."""
    assert turn.member is not None and turn.member.agency.id is not None
    agency = turn.member.agency
    deadlines = {d.id: d for d in plans.deadlines(turn.session, plan_id=turn.plan_id)}
    history = reports.status_history(turn.session, agency_id=turn.member.agency.id)
    lines = [f"📋 Tình hình báo cáo của {agency.name}:"]
    lines += [_deadline_line(turn, d, history) for d in deadlines.values()]
    if history:
        lines += ["", "Các lần gửi gần nhất:"]
        lines += [
            _history_line(turn, u, deadlines.get(u.deadline_id)) for u in history[:HISTORY_LIMIT]
        ]
    lines += ["", "Gõ /baocao để gửi báo cáo mới."]
    turn.say("\n".join(lines), file_buttons(history[:HISTORY_LIMIT]), numbered=False)


def _deadline_line(turn: Turn, deadline: Deadline, history: list[StatusUpdate]) -> str:
    zone = ZoneInfo(turn.plan.timezone)
    latest = next((u for u in history if u.deadline_id == deadline.id), None)
    if latest is None:
        overdue = turn.now >= plans.due_at(deadline.due_before, zone)
        state = "❌ quá hạn, chưa nộp" if overdue else "⬜ chưa nộp"
    else:
        state = (
            f"{ReportStatus(latest.status).label} {latest.progress}% "
            f"(gửi lúc {fmt_datetime(latest.created_at, zone)})"
        )
    return f"• {deadline.title} (trước {fmt_date(deadline.due_before)}): {state}"


def _history_line(turn: Turn, update: StatusUpdate, deadline: Deadline | None) -> str:
    zone = ZoneInfo(turn.plan.timezone)
    line = (
        f"• {fmt_datetime(update.created_at, zone)} — {deadline.title if deadline else '?'}: "
        f"{ReportStatus(update.status).label} {update.progress}%"
    )
    return line + (f" 📎 {update.file_name}" if update.file_name else "")


@router.command(
    "nhiemvu",
    role=Role.FOCAL_POINT,
    help="xem nhiệm vụ của đơn vị theo Kế hoạch",
    menu="Xem nhiệm vụ của đơn vị",
)
def show_tasks(turn: Turn) -> None:
    """/nhiemvu: the tasks the plan gives the focal point's agency."""
    assert turn.member is not None
    agency = turn.member.agency
    tasks = plans.tasks_of_section(turn.session, plan_id=turn.plan_id, section=agency.section)
    lines = [
        f"📌 Nhiệm vụ của {agency.name} theo mục {agency.section} Kế hoạch số {turn.plan.number}:",
        "",
    ]
    lines += [f"{task.ordinal}. {task.text}" for task in tasks]
    cross = plans.cross_cutting_tasks(turn.session, plan_id=turn.plan_id)
    if cross:
        headings: dict[str, str] = {}
        for task in cross:
            headings.setdefault(task.section, task.heading)
        lines += ["", "Các nhiệm vụ chung (mục II):"]
        lines += [f"{section}. {heading}" for section, heading in headings.items()]
    turn.say("\n".join(lines))
