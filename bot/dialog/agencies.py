"""The coordinator's work with agencies: one agency's page, invites, adding a unit."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog import validation
from bot.dialog.agency_picker import agency_command
from bot.dialog.registration import how_to_use_code
from bot.dialog.report_files import file_buttons
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from storage import invites, people, plans, reports
from storage.formats import fmt_datetime
from storage.models import Agency, Deadline, FocalPoint, ReportStatus, StatusUpdate

HISTORY_LIMIT = 15

router = Router("agencies")


@agency_command(
    router,
    "donvi",
    purpose="xem thông tin",
    usage="/donvi MÃ",
    help="thông tin, đầu mối và lịch sử báo cáo của một đơn vị",
    menu="Thông tin một đơn vị",
)
def agency_detail(turn: Turn, agency: Agency) -> None:
    """/donvi CODE: the agency's focal points and report history."""
    assert agency.id is not None
    tasks = plans.tasks_of_section(turn.session, plan_id=turn.plan_id, section=agency.section)
    focal_points = people.focal_points_of(turn.session, agency_ids=[agency.id])
    lines = [f"🏢 {agency.name} [{agency.code}] — mục {agency.section}, {len(tasks)} nhiệm vụ"]
    lines += _focal_point_lines(turn, agency, focal_points)
    history = reports.status_history(turn.session, agency_id=agency.id, limit=HISTORY_LIMIT)
    deadlines = {d.id: d for d in plans.deadlines(turn.session, plan_id=turn.plan_id)}
    names = {fp.id: fp.full_name for fp in focal_points}
    lines += ["", "Lịch sử báo cáo (mới nhất trước):"]
    if not history:
        lines.append("• (chưa có báo cáo nào)")
    lines += [_history_line(turn, u, deadlines.get(u.deadline_id), names) for u in history]
    turn.say("\n".join(lines), file_buttons(history), numbered=False)


def _focal_point_lines(turn: Turn, agency: Agency, focal_points: list[FocalPoint]) -> list[str]:
    accounts = people.accounts_of(
        turn.session,
        focal_point_ids=[fp.id for fp in focal_points if fp.id],
        reachable_only=False,
    )
    lines = ["Cán bộ đầu mối:"]
    if not focal_points:
        lines.append(f"• (chưa có — gõ /moi {agency.code} để mời)")
    for fp in focal_points:
        channels = ", ".join(
            turn.settings.display_name(a.channel) + (" (đã chặn bot)" if a.blocked_at else "")
            for a in accounts
            if a.focal_point_id == fp.id
        )
        lines.append(f"• {fp.full_name} — {fp.position} — {fp.phone} ({channels})")
    return lines


def _history_line(
    turn: Turn, update: StatusUpdate, deadline: Deadline | None, names: dict[int | None, str]
) -> str:
    zone = ZoneInfo(turn.plan.timezone)
    line = (
        f"• {fmt_datetime(update.created_at, zone)} — {deadline.title if deadline else '?'}: "
        f"{ReportStatus(update.status).label} {update.progress}%"
    )
    if update.note:
        line += f" — {update.note}"
    if update.file_name:
        line += f" 📎 {update.file_name}"
    who = names.get(update.focal_point_id) if update.focal_point_id else None
    return line + (f" ({who})" if who else "")


@agency_command(
    router,
    "moi",
    purpose="tạo mã mời",
    usage="/moi MÃ",
    help="tạo đường link mời cán bộ đầu mối cho một đơn vị",
    menu="Tạo mã mời cán bộ đầu mối",
)
def invite(turn: Turn, agency: Agency) -> None:
    """/moi CODE: a single-use invite for one agency, as a deep link and a code."""
    created = invites.create_invite(
        turn.session,
        agency=agency,
        created_by=turn.actor,
        now=turn.now,
        ttl=turn.settings.invite_ttl,
    )
    turn.say(
        texts.INVITE_CREATED.format(
            agency=agency.name,
            code=created.code,
            how=how_to_use_code(turn, created.code),
            expires=fmt_datetime(created.expires_at, ZoneInfo(turn.plan.timezone)),
        )
    )


@router.command(
    "themdonvi",
    role=Role.COORDINATOR,
    usage="/themdonvi Tên đơn vị",
    help="thêm đơn vị vào mục {open_section}",
    menu="Thêm đơn vị vào kế hoạch",
)
def add_agency(turn: Turn) -> None:
    """/themdonvi Name: add a unit to the plan's open section (IV.14 of the seed plan)."""
    sections = plans.open_sections(turn.session, plan_id=turn.plan_id)
    if not sections:
        turn.say(texts.OPEN_SECTION_MISSING)
        return
    try:
        name = validation.agency_name(turn.event.rest)
    except validation.InputError as problem:
        turn.say(str(problem))
        return
    for existing in plans.agencies(turn.session, plan_id=turn.plan_id):
        if validation.fold(existing.name) == validation.fold(name):
            turn.say(texts.AGENCY_EXISTS.format(name=existing.name, code=existing.code))
            return
    section = sections[0]
    agency = plans.add_agency_to_open_section(
        turn.session,
        plan_id=turn.plan_id,
        section=section.section,
        kind=section.kind,
        name=name,
        short_name=name[:60],
    )
    turn.say(texts.AGENCY_ADDED.format(name=agency.name, section=agency.section, code=agency.code))
