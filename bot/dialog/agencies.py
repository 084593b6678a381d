"""The coordinator's work with agencies: one agency's page, invites, adding a unit."""

from __future__ import annotations

from bot import texts
from bot.dialog import validation
from bot.dialog.agency_picker import agency_command
from bot.dialog.indicator_text import unit_indicator_lines
from bot.dialog.registration import how_to_use_code
from bot.dialog.report_files import file_buttons
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from storage import indicator_standing, invites, people, plans, reports
from storage.formats import fmt_datetime
from storage.models import PlanUnit, ReportStatus, StatusUpdate

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
def agency_detail(turn: Turn, unit: PlanUnit) -> None:
    """/donvi CODE: the unit's focal points and report history in the plan."""
    tasks = plans.tasks_of_section(turn.session, plan_id=turn.plan_id, section=unit.section)
    lines = [f"🏢 {unit.name} [{unit.code}] — mục {unit.section}, {len(tasks)} nhiệm vụ"]
    lines += _focal_point_lines(turn, unit)
    standings = indicator_standing.indicator_standings(
        turn.session, plan_id=turn.plan_id, organisation_id=unit.organisation_id
    )
    lines += unit_indicator_lines(standings, unit)
    history = reports.status_history(
        turn.session,
        organisation_id=unit.organisation_id,
        plan_id=turn.plan_id,
        limit=HISTORY_LIMIT,
    )
    titles = {p.id: p.title for p in plans.periods(turn.session, plan_id=turn.plan_id)}
    names = {
        fp.id: fp.full_name
        for fp in people.focal_points_of(turn.session, organisation_ids=[unit.organisation_id])
    }
    lines += ["", "Lịch sử báo cáo (mới nhất trước):"]
    if not history:
        lines.append("• (chưa có báo cáo nào)")
    lines += [_history_line(turn, u, titles.get(u.period_id, "?"), names) for u in history]
    turn.say("\n".join(lines), file_buttons(history), numbered=False)


def _focal_point_lines(turn: Turn, unit: PlanUnit) -> list[str]:
    """Who answers for the unit: in this plan, and others of the organisation (not in it)."""
    everyone = people.focal_points_of(turn.session, organisation_ids=[unit.organisation_id])
    in_plan = {
        fp.id
        for fp in people.focal_points_of(
            turn.session, organisation_ids=[unit.organisation_id], plan_id=turn.plan_id
        )
    }
    accounts = people.accounts_of(
        turn.session, focal_point_ids=[fp.id for fp in everyone if fp.id], reachable_only=False
    )
    lines = ["Cán bộ đầu mối:"]
    if not in_plan:
        lines.append(f"• (chưa có — gõ /moi {unit.code} để mời)")
    for fp in everyone:
        channels = ", ".join(
            turn.settings.display_name(a.channel) + (" (đã chặn bot)" if a.blocked_at else "")
            for a in accounts
            if a.focal_point_id == fp.id
        )
        where = "" if fp.id in in_plan else " — chưa tham gia kế hoạch này"
        lines.append(f"• {fp.full_name} — {fp.position} — {fp.phone} ({channels}){where}")
    return lines


def _history_line(
    turn: Turn, update: StatusUpdate, title: str, names: dict[int | None, str]
) -> str:
    line = (
        f"• {fmt_datetime(update.created_at, turn.zone)} — {title}: "
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
def invite(turn: Turn, unit: PlanUnit) -> None:
    """/moi CODE: a single-use invite for one unit of the plan, as a deep link and a code."""
    created = invites.create_invite(
        turn.session,
        unit=unit,
        created_by=turn.actor,
        now=turn.now,
        ttl=turn.settings.invite_ttl,
    )
    turn.say(
        texts.INVITE_CREATED.format(
            agency=unit.name,
            number=turn.current_plan.number,
            code=created.code,
            how=how_to_use_code(turn, created.code),
            expires=fmt_datetime(created.expires_at, turn.zone),
        )
    )


@router.command(
    "themdonvi",
    role=Role.COORDINATOR,
    usage="/themdonvi Tên đơn vị",
    help="thêm đơn vị vào mục {open_section}",
    menu="Thêm đơn vị vào kế hoạch",
    plan=PlanScope.COORDINATED,
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
    for existing in plans.units(turn.session, plan_id=turn.plan_id):
        if validation.fold(existing.name) == validation.fold(name):
            turn.say(texts.AGENCY_EXISTS.format(name=existing.name, code=existing.code))
            return
    section = sections[0]
    unit = plans.add_unit_to_open_section(
        turn.session,
        plan_id=turn.plan_id,
        section=section.section,
        kind=section.kind,
        name=name,
        short_name=name[:60],
    )
    turn.say(texts.AGENCY_ADDED.format(name=unit.name, section=unit.section, code=unit.code))
