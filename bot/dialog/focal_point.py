"""What a focal point can look at: their unit's tasks and reports in a plan, and their plans."""

from __future__ import annotations

from bot.dialog.report_files import file_buttons
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from storage import plans, reports
from storage.formats import fmt_datetime
from storage.models import (
    LatestReport,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
)
from storage.read_models import visible_periods

HISTORY_LIMIT = 10
PERIODS_SHOWN = 6

router = Router("focal_point")


@router.command(
    "tinhhinh",
    role=Role.FOCAL_POINT,
    help="xem các báo cáo đã gửi của đơn vị",
    menu="Xem báo cáo đã gửi của đơn vị",
    plan=PlanScope.JOINED,
)
def show_status(turn: Turn) -> None:
    """/tinhhinh: the unit's latest report for each recent period and its recent history."""
    unit = turn.member_unit
    owed = plans.owed_periods(plans.periods(turn.session, plan_id=turn.plan_id), unit)
    shown = visible_periods(owed, now=turn.now, zone=turn.zone, limit=PERIODS_SHOWN)
    latest = {
        row.period_id: row
        for row in reports.latest_reports(
            turn.session, plan_id=turn.plan_id, organisation_id=unit.organisation_id
        )
    }
    history = reports.status_history(
        turn.session,
        organisation_id=unit.organisation_id,
        plan_id=turn.plan_id,
        limit=HISTORY_LIMIT,
    )
    titles = {p.id: p.title for p in owed}
    lines = [f"📋 Tình hình báo cáo của {unit.name} — Kế hoạch số {turn.current_plan.number}:"]
    lines += [_period_line(turn, p, latest.get(p.id or 0)) for p in shown]
    if history:
        lines += ["", "Các lần gửi gần nhất:"]
        lines += [_history_line(turn, u, titles.get(u.period_id, "?")) for u in history]
    lines += ["", "Gõ /baocao để gửi báo cáo mới."]
    turn.say("\n".join(lines), file_buttons(history), numbered=False)


def _period_line(turn: Turn, period: ReportingPeriod, latest: LatestReport | None) -> str:
    if latest is None:
        overdue = turn.now >= plans.due_at(period.due_before, turn.zone)
        state = "❌ quá hạn, chưa nộp" if overdue else "⬜ chưa nộp"
    else:
        state = (
            f"{ReportStatus(latest.status).label} {latest.progress}% "
            f"(gửi lúc {fmt_datetime(latest.reported_at, turn.zone)})"
        )
    return f"• {period.title} ({period.due_text}): {state}"


def _history_line(turn: Turn, update: StatusUpdate, title: str) -> str:
    line = (
        f"• {fmt_datetime(update.created_at, turn.zone)} — {title}: "
        f"{ReportStatus(update.status).label} {update.progress}%"
    )
    return line + (f" 📎 {update.file_name}" if update.file_name else "")


@router.command(
    "nhiemvu",
    role=Role.FOCAL_POINT,
    help="xem nhiệm vụ của đơn vị theo Kế hoạch",
    menu="Xem nhiệm vụ của đơn vị",
    plan=PlanScope.JOINED,
)
def show_tasks(turn: Turn) -> None:
    """/nhiemvu: the tasks the plan gives the focal point's unit."""
    unit = turn.member_unit
    tasks = plans.tasks_of_section(turn.session, plan_id=turn.plan_id, section=unit.section)
    lines = [
        f"📌 Nhiệm vụ của {unit.name} theo mục {unit.section} "
        f"Kế hoạch số {turn.current_plan.number}:",
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
