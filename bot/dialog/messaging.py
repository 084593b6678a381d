"""The coordinator writes to focal points: a ping to one agency, a notice to every one."""

from __future__ import annotations

import secrets

from bot import texts
from bot.dialog import validation
from bot.dialog.agency_picker import agency_command
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from scheduler.reminders import messages_to_units
from scheduler.texts import report_button
from storage import outbox, plans
from storage.models import PlanUnit

router = Router("messaging")


@agency_command(
    router,
    "nhac",
    purpose="gửi lời nhắc",
    usage="/nhac MÃ",
    help="nhắc một đơn vị cập nhật tình hình",
    menu="Nhắc một đơn vị",
)
def nudge(turn: Turn, unit: PlanUnit) -> None:
    """/nhac CODE: ask one unit, now, to update its status."""
    plan = turn.current_plan
    target = plans.next_open_period(turn.session, plan=plan, now=turn.now, unit=unit)
    if target is None:  # every period has passed: late reports go to the last one
        owed = plans.owed_periods(plans.periods(turn.session, plan_id=turn.plan_id), unit)
        target = owed[-1] if owed else None
    messages = messages_to_units(
        turn.session,
        plan=plan,
        key=f"nhac/{request_key(turn)}",
        rule="nhac",
        units=[unit],
        text_for=lambda u: texts.NUDGE_TEXT.format(
            coordinator=turn.coordinator_name, agency=u.name, number=plan.number
        ),
        buttons=report_button(target) if target else (),
        now=turn.now,
    )
    queued = outbox.enqueue_outbox(turn.session, messages)
    turn.result.outbox_queued += queued
    if queued == 0:
        turn.say(texts.NUDGE_NOBODY.format(agency=unit.name, code=unit.code))
    else:
        turn.say(texts.NUDGE_QUEUED.format(count=queued, agency=unit.name))


def request_key(turn: Turn) -> str:
    """What makes the outbox keys of a ping or a broadcast: the update that asked for it, so a
    replayed update queues nothing twice (a random part only where the channel gives no id)."""
    update_id = turn.event.update_id or secrets.token_hex(6)
    return f"{turn.event.channel}:{turn.event.user_id}:{update_id}"


@router.command(
    "thongbao",
    role=Role.COORDINATOR,
    usage="/thongbao Nội dung",
    help="gửi thông báo tới tất cả cán bộ đầu mối",
    menu="Gửi thông báo tới các đầu mối",
    plan=PlanScope.COORDINATED,
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
    messages = messages_to_units(
        turn.session,
        plan=turn.current_plan,
        key=f"thong-bao/{request_key(turn)}",
        rule="thong-bao",
        units=plans.units(turn.session, plan_id=turn.plan_id),
        text_for=lambda _unit: text,
        now=turn.now,
    )
    queued = outbox.enqueue_outbox(turn.session, messages)
    turn.result.outbox_queued += queued
    turn.say(texts.BROADCAST_QUEUED.format(count=queued))
