"""The coordinator's commands: overview, overdue list, one agency, export, invites, pings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, parse_action_payload
from bot.dialog.core import Answer, Turn
from bot.dialog.events import DocumentReply
from bot.dialog.registration import CHANNEL_NAMES, how_to_use_code
from bot.dialog.reporting import file_buttons
from bot.export import XLSX_MIME, build_workbook
from scheduler.reminders import messages_to_agencies
from scheduler.texts import (
    STATUS_LABELS,
    fmt_date,
    fmt_datetime,
    overview_text,
    report_button,
)
from storage import invites, outbox, people, plans, read_models, reports
from storage.models import Agency, Deadline, ReportStatus

PICK_FLOW = "chon_don_vi"
HISTORY_LIMIT = 15


def overview(turn: Turn) -> None:
    """/tonghop: the agency × deadline matrix with each deadline's reporting rate."""
    turn.say(overview_text(read_models.overview(turn.session, plan=turn.plan, now=turn.now)))


def overdue(turn: Turn) -> None:
    """/quahan: agencies past a deadline without a report, and agencies reporting problems."""
    data = read_models.overview(turn.session, plan=turn.plan, now=turn.now)
    zone = ZoneInfo(turn.plan.timezone)
    focal_points = people.focal_points_of(
        turn.session, agency_ids=[row.agency.id for row in data.rows if row.agency.id]
    )
    lines = ["⏰ ĐƠN VỊ QUÁ HẠN CHƯA NỘP BÁO CÁO"]
    any_past = False
    for stats in data.stats:
        if turn.now < stats.due_at:
            continue
        any_past = True
        assert stats.deadline.id is not None
        late = [row for row in data.rows if row.cells[stats.deadline.id].overdue]
        lines += [
            "",
            f"{stats.deadline.title} (hạn trước {fmt_date(stats.deadline.due_before)}) — "
            f"{len(late)}/{stats.total} đơn vị:",
        ]
        if not late:
            lines.append("• Tất cả đơn vị đã nộp. 👍")
        for row in late:
            contacts = [
                f"{fp.full_name} {fp.phone}" for fp in focal_points if fp.agency_id == row.agency.id
            ]
            who = "; ".join(contacts) if contacts else "chưa có đầu mối"
            lines.append(f"• {row.agency.short_name} [{row.agency.code}]: {who}")
    if not any_past:
        upcoming = [s for s in data.stats if turn.now < s.due_at]
        next_due = (
            f"{upcoming[0].deadline.title}, trước {fmt_date(upcoming[0].deadline.due_before)}"
            if upcoming
            else "không còn"
        )
        lines = [texts.NOTHING_OVERDUE.format(next=next_due)]
    blocked = [
        (row, deadline)
        for row in data.rows
        for deadline in data.deadlines
        if deadline.id is not None
        and (latest := row.cells[deadline.id].latest) is not None
        and ReportStatus(latest.status) == ReportStatus.BLOCKED
    ]
    if blocked:
        lines += ["", "⚠️ ĐƠN VỊ BÁO GẶP VƯỚNG MẮC"]
        for row, deadline in blocked:
            assert deadline.id is not None
            latest = row.cells[deadline.id].latest
            assert latest is not None
            lines.append(
                f"• {row.agency.short_name} — {deadline.title} "
                f"({fmt_datetime(latest.created_at, zone)}): {latest.note or ''}"
            )
    turn.say("\n".join(lines))


def _agency_from_args(turn: Turn, purpose: str) -> Agency | None:
    """The agency named by the command's argument; without one, offer the list."""
    if not turn.event.args:
        _ask_agency(turn, purpose)
        return None
    agency = plans.agency_by_code(turn.session, plan_id=turn.plan_id, code=turn.event.args[0])
    if agency is None:
        codes = ", ".join(a.code for a in plans.agencies(turn.session, plan_id=turn.plan_id))
        turn.say(texts.AGENCY_NOT_FOUND.format(code=turn.event.args[0], codes=codes))
    return agency


PURPOSES = {"moi": "tạo mã mời", "donvi": "xem thông tin", "nhac": "gửi lời nhắc"}


def _ask_agency(turn: Turn, purpose: str) -> None:
    agencies = plans.agencies(turn.session, plan_id=turn.plan_id)
    conversation = Conversation(flow=PICK_FLOW, step="don_vi", data={"purpose": purpose})
    question = conversation.ask(
        "don_vi",
        texts.CHOOSE_AGENCY.format(purpose=PURPOSES[purpose]),
        [(a.short_name, a.code) for a in agencies],
        per_row=2,
    )
    turn.save(conversation)
    turn.reply(question)


class PickAgencyFlow:
    """Pick an agency from the list, then do what the command wanted with it."""

    def answer(self, turn: Turn, conversation: Conversation, answer: Answer) -> None:
        if not turn.is_coordinator:
            turn.end_conversation()
            turn.say(
                texts.COORDINATOR_ONLY.format(command="moi", coordinator=turn.coordinator_name)
            )
            return
        code = answer.choice or (answer.text or "").strip()
        agency = (
            plans.agency_by_code(turn.session, plan_id=turn.plan_id, code=code) if code else None
        )
        if agency is None:
            turn.say(texts.ANSWER_WITH_BUTTON)
            return
        turn.end_conversation()
        ACTIONS[conversation.data["purpose"]](turn, agency)


def invite(turn: Turn) -> None:
    """/moi CODE: a single-use invite for one agency, as a deep link and a code."""
    agency = _agency_from_args(turn, "moi")
    if agency is not None:
        _invite(turn, agency)


def _invite(turn: Turn, agency: Agency) -> None:
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


def agency_detail(turn: Turn) -> None:
    """/donvi CODE: the agency's focal points and report history."""
    agency = _agency_from_args(turn, "donvi")
    if agency is not None:
        _agency_detail(turn, agency)


def _agency_detail(turn: Turn, agency: Agency) -> None:
    assert agency.id is not None
    zone = ZoneInfo(turn.plan.timezone)
    focal_points = people.focal_points_of(turn.session, agency_ids=[agency.id])
    accounts = people.accounts_of(
        turn.session,
        focal_point_ids=[fp.id for fp in focal_points if fp.id],
        reachable_only=False,
    )
    tasks = plans.tasks_of_section(turn.session, plan_id=turn.plan_id, section=agency.section)
    lines = [f"🏢 {agency.name} [{agency.code}] — mục {agency.section}, {len(tasks)} nhiệm vụ"]
    lines.append("Cán bộ đầu mối:")
    if not focal_points:
        lines.append(f"• (chưa có — gõ /moi {agency.code} để mời)")
    for fp in focal_points:
        channels = ", ".join(
            CHANNEL_NAMES.get(a.channel, a.channel) + (" (đã chặn bot)" if a.blocked_at else "")
            for a in accounts
            if a.focal_point_id == fp.id
        )
        lines.append(f"• {fp.full_name} — {fp.position} — {fp.phone} ({channels})")
    deadlines = {d.id: d for d in plans.deadlines(turn.session, plan_id=turn.plan_id)}
    history = reports.status_history(turn.session, agency_id=agency.id, limit=HISTORY_LIMIT)
    names = {fp.id: fp.full_name for fp in focal_points}
    lines += ["", "Lịch sử báo cáo (mới nhất trước):"]
    if not history:
        lines.append("• (chưa có báo cáo nào)")
    for update in history:
        deadline = deadlines.get(update.deadline_id)
        line = (
            f"• {fmt_datetime(update.created_at, zone)} — "
            f"{deadline.title if deadline else '?'}: "
            f"{STATUS_LABELS[ReportStatus(update.status)]} {update.progress}%"
        )
        if update.note:
            line += f" — {update.note}"
        if update.file_name:
            line += f" 📎 {update.file_name}"
        who = names.get(update.focal_point_id) if update.focal_point_id else None
        if who:
            line += f" ({who})"
        lines.append(line)
    turn.say("\n".join(lines), file_buttons(history), numbered=False)


def send_report_file(turn: Turn) -> None:
    """The «📎» button: send back the file attached to a status update."""
    action = parse_action_payload(turn.event.payload or "")
    update_id = validation.whole_number(action[1]) if action is not None else None
    if not _send_report_file(turn, update_id):
        turn.result.notice = texts.FORGED_BUTTON
        turn.say(texts.FORGED_BUTTON)


def report_file_command(turn: Turn) -> None:
    """/tep N: the same as the «📎» button, for channels without buttons (Zalo)."""
    argument = turn.event.args[0] if turn.event.args else ""
    update_id = validation.whole_number(argument)
    if not _send_report_file(turn, update_id):
        turn.say(texts.FILE_NOT_FOUND.format(number=argument[:20] or "?"))


def _send_report_file(turn: Turn, update_id: int | None) -> bool:
    """False when there is no such file or it is not this user's to see (same answer for both,
    so numbers cannot be probed)."""
    update = reports.status_update_by_id(turn.session, update_id) if update_id else None
    agency = plans.agency_by_id(turn.session, update.agency_id) if update else None
    allowed = turn.is_coordinator or (
        turn.member is not None and agency is not None and turn.member.agency.id == agency.id
    )
    if update is None or agency is None or agency.plan_id != turn.plan_id or not allowed:
        return False
    if not update.file_id or not update.file_name:
        return False
    if update.file_channel != turn.event.channel:
        name = CHANNEL_NAMES.get(update.file_channel or "", update.file_channel or "?")
        turn.say(texts.FILE_NOT_AVAILABLE.format(channel=name))
        return True
    deadline = turn.session.get(Deadline, update.deadline_id)
    turn.reply(
        DocumentReply(
            filename=update.file_name,
            file_id=update.file_id,
            caption=f"{agency.short_name} — {deadline.title if deadline else ''}"[:1000],
        )
    )
    return True


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


def nudge(turn: Turn) -> None:
    """/nhac CODE: ask one agency, now, to update its status."""
    agency = _agency_from_args(turn, "nhac")
    if agency is not None:
        _nudge(turn, agency)


def _nudge(turn: Turn, agency: Agency) -> None:
    target = plans.next_open_deadline(turn.session, plan=turn.plan, now=turn.now)
    if target is None:  # every deadline has passed: late reports go to the last one
        target = next(iter(reversed(plans.deadlines(turn.session, plan_id=turn.plan_id))), None)
    messages = messages_to_agencies(
        turn.session,
        plan=turn.plan,
        key=f"nhac/{secrets.token_hex(6)}",
        rule="nhac",
        agencies=[agency],
        text_for=lambda a: texts.NUDGE_TEXT.format(
            coordinator=turn.coordinator_name, agency=a.name, number=turn.plan.number
        ),
        buttons=report_button(target) if target else (),
        now=turn.now,
    )
    queued = outbox.enqueue_outbox(turn.session, messages)
    turn.result.outbox_queued += queued
    if queued == 0:
        turn.say(texts.NUDGE_NOBODY.format(agency=agency.name, code=agency.code))
    else:
        turn.say(texts.NUDGE_QUEUED.format(count=queued, agency=agency.name))


def broadcast(turn: Turn) -> None:
    """/thongbao TEXT: a message from the coordinator to every focal point."""
    if not turn.event.rest.strip():
        turn.say(texts.BROADCAST_USAGE.format(max=validation.BROADCAST_MAX))
        return
    try:
        body = validation.note(turn.event.rest, max_length=validation.BROADCAST_MAX)
    except validation.InputError as problem:
        turn.say(str(problem))
        return
    text = texts.BROADCAST_TEXT.format(coordinator=turn.coordinator_name, text=body)
    messages = messages_to_agencies(
        turn.session,
        plan=turn.plan,
        key=f"thong-bao/{secrets.token_hex(6)}",
        rule="thong-bao",
        agencies=plans.agencies(turn.session, plan_id=turn.plan_id),
        text_for=lambda _agency: text,
        now=turn.now,
    )
    queued = outbox.enqueue_outbox(turn.session, messages)
    turn.result.outbox_queued += queued
    turn.say(texts.BROADCAST_QUEUED.format(count=queued))


ACTIONS: dict[str, Callable[[Turn, Agency], None]] = {
    "moi": _invite,
    "donvi": _agency_detail,
    "nhac": _nudge,
}
