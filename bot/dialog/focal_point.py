"""What a focal point can look at: their agency's tasks and their agency's reports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.dialog.core import Turn
from bot.dialog.reporting import file_buttons
from scheduler.texts import STATUS_LABELS, fmt_date, fmt_datetime
from storage import plans, reports
from storage.models import ReportStatus

HISTORY_LIMIT = 10


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


def show_status(turn: Turn) -> None:
    """/tinhhinh: the agency's latest report for each deadline and its recent history."""
    assert turn.member is not None
    agency = turn.member.agency
    assert agency.id is not None
    zone = ZoneInfo(turn.plan.timezone)
    deadlines = {d.id: d for d in plans.deadlines(turn.session, plan_id=turn.plan_id)}
    history = reports.status_history(turn.session, agency_id=agency.id)
    lines = [f"📋 Tình hình báo cáo của {agency.name}:"]
    for deadline_id, deadline in deadlines.items():
        latest = next((u for u in history if u.deadline_id == deadline_id), None)
        if latest is None:
            overdue = turn.now >= plans.due_at(deadline.due_before, zone)
            state = "❌ quá hạn, chưa nộp" if overdue else "⬜ chưa nộp"
        else:
            state = (
                f"{STATUS_LABELS[ReportStatus(latest.status)]} {latest.progress}% "
                f"(gửi lúc {fmt_datetime(latest.created_at, zone)})"
            )
        lines.append(f"• {deadline.title} (trước {fmt_date(deadline.due_before)}): {state}")
    if history:
        lines += ["", "Các lần gửi gần nhất:"]
        for update in history[:HISTORY_LIMIT]:
            reported_for = deadlines.get(update.deadline_id)
            line = (
                f"• {fmt_datetime(update.created_at, zone)} — "
                f"{reported_for.title if reported_for else '?'}: "
                f"{STATUS_LABELS[ReportStatus(update.status)]} {update.progress}%"
            )
            if update.file_name:
                line += f" 📎 {update.file_name}"
            lines.append(line)
    lines += ["", "Gõ /baocao để gửi báo cáo mới."]
    turn.say("\n".join(lines), file_buttons(history[:HISTORY_LIMIT]), numbered=False)
