"""The coordinator writes to focal points: a ping to one agency, a notice to every one."""

from __future__ import annotations

import secrets

from bot import texts
from bot.dialog import validation
from bot.dialog.agency_picker import agency_command
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from scheduler.reminders import messages_to_agencies
from scheduler.texts import report_button
from storage import outbox, plans
from storage.models import Agency

router = Router("messaging")


@agency_command(
    router,
    "nhac",
    purpose="gửi lời nhắc",
    usage="/nhac MÃ",
    help="nhắc một đơn vị cập nhật tình hình",
    menu="Nhắc một đơn vị",
)
def nudge(turn: Turn, agency: Agency) -> None:
    """/nhac CODE: ask one agency, now, to update its status."""
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


@router.command(
    "thongbao",
    role=Role.COORDINATOR,
    usage="/thongbao Nội dung",
    help="gửi thông báo tới tất cả cán bộ đầu mối",
    menu="Gửi thông báo tới các đầu mối",
)
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
