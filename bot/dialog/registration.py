"""A focal point registers through an invite: name, position, phone, confirm.

Also /ketnoi: a one-time code that adds an account on another channel to a focal point.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.guide import help_for
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, Role, Turn
from storage import invites, people, plans
from storage.formats import fmt_date, fmt_datetime
from storage.models import FocalPoint, Invite

INVITE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FLOW = "dang_ky"
STEP_NAME, STEP_POSITION, STEP_PHONE, STEP_CONFIRM = "ho_ten", "chuc_vu", "dien_thoai", "xac_nhan"
OK, REDO, CANCEL = "ok", "redo", "cancel"

router = Router("registration")


class Registration(FlowState):
    """An opened invite and the answers so far."""

    invite_id: int
    full_name: str | None = None
    position: str | None = None
    phone: str | None = None


@router.command("start")
def start(turn: Turn) -> None:
    """/start [CODE]: open an invite, or greet."""
    if not turn.event.args:
        help_for(turn)
        return
    start_with_code(turn, turn.event.args[0])


@router.message(lambda text: INVITE_CODE_PATTERN.match(text) is not None)
def code_sent_as_message(turn: Turn, code: str) -> bool:
    """An invite opened by sending its code (Zalo's way), at any point: a newer invite during
    registration, or a code sent by someone registered. Other code-shaped text goes on."""
    known = invites.invite_by_code(turn.session, code) is not None
    if known or (turn.member is None and turn.conversation is None):
        start_with_code(turn, code)
        return True
    return False


def how_to_use_code(turn: Turn, code: str) -> str:
    """Where to send an invite or link code, on every channel the service runs."""
    return "".join(profile.how_to_use_code(code) for profile in turn.settings.channels.values())


@router.command(
    "ketnoi",
    role=Role.FOCAL_POINT,
    help="nhận nhắc việc trên cả {channels}",
    shown=lambda settings: settings.has_other_channel,
)
def link_code(turn: Turn) -> None:
    """/ketnoi: a code that adds another channel's account to this focal point."""
    assert turn.member is not None
    if not turn.settings.has_other_channel:
        channel = turn.settings.display_name(turn.event.channel)
        turn.say(texts.NO_OTHER_CHANNEL.format(channel=channel))
        return
    created = invites.create_link_code(
        turn.session,
        focal_point=turn.member.focal_point,
        created_by=turn.actor,
        now=turn.now,
        ttl=turn.settings.invite_ttl,
    )
    turn.say(
        texts.LINK_CODE_CREATED.format(
            name=turn.member.focal_point.full_name,
            agency=turn.member.agency.name,
            code=created.code,
            how=how_to_use_code(turn, created.code),
            expires=fmt_datetime(created.expires_at, ZoneInfo(turn.plan.timezone)),
        )
    )


def _use_link_code(turn: Turn, invite: Invite) -> None:
    focal_point = turn.session.get(FocalPoint, invite.focal_point_id)
    agency = plans.agency_by_id(turn.session, invite.agency_id)
    if focal_point is None or not focal_point.active or agency is None:
        turn.say(texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    people.link_channel_account(
        turn.session,
        invite=invite,
        channel=turn.event.channel,
        user_id=turn.event.user_id,
        chat_id=turn.event.chat_id,
        display_name=turn.event.display_name,
        now=turn.now,
    )
    turn.end_conversation()
    turn.say(
        texts.ACCOUNT_LINKED.format(
            channel=turn.settings.display_name(turn.event.channel),
            name=focal_point.full_name,
            agency=agency.name,
        )
    )


def _invite_problem(turn: Turn, invite: Invite | None) -> str | None:
    if invite is None:
        return texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name)
    if invite.used_at is not None:
        return texts.INVITE_USED
    if invite.expires_at <= turn.now:
        zone = ZoneInfo(turn.plan.timezone)
        return texts.INVITE_EXPIRED.format(
            expires=fmt_datetime(invite.expires_at, zone), coordinator=turn.coordinator_name
        )
    return None


def _claimable(turn: Turn, invite: Invite) -> str | None:
    """Why this user cannot open the invite for registration, or None once it is theirs."""
    agency = plans.agency_by_id(turn.session, invite.agency_id)
    if agency is None or agency.plan_id != turn.plan_id or not agency.active:
        return texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name)
    claimed = invites.claim_invite(
        turn.session,
        invite=invite,
        channel=turn.event.channel,
        user_id=turn.event.user_id,
        now=turn.now,
    )
    return None if claimed else texts.INVITE_USED


def start_with_code(turn: Turn, code: str) -> None:
    """Open an invite: check it, bind it to this user and ask for their name."""
    if turn.member is not None:
        turn.say(texts.ALREADY_REGISTERED.format(agency=turn.member.agency.name))
        return
    invite = invites.invite_by_code(turn.session, code) if INVITE_CODE_PATTERN.match(code) else None
    problem = _invite_problem(turn, invite)
    if problem is None and invite is not None and invite.focal_point_id is not None:
        _use_link_code(turn, invite)
        return
    if problem is None and invite is not None:
        problem = _claimable(turn, invite)
    if problem is not None or invite is None or invite.id is None:
        turn.say(problem or texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    open_now = turn.conversation.state if turn.conversation is not None else None
    if isinstance(open_now, Registration) and open_now.invite_id != invite.id:
        turn.drop_conversation()  # a newer invite replaces the one open
    agency = plans.agency_by_id(turn.session, invite.agency_id)
    assert agency is not None
    conversation = REGISTRATION.new(Registration(invite_id=invite.id))
    welcome = texts.REGISTER_WELCOME.format(
        coordinator=turn.coordinator_name, agency=agency.name, number=turn.plan.number
    )
    turn.reply(conversation.ask(STEP_NAME, welcome))
    turn.save(conversation)


# --- the registration conversation ---------------------------------------------------------

Step = Conversation[Registration]


def _screen(turn: Turn, conversation: Step, answer: Answer) -> bool:
    """Every step wants typed text or a button, not a file or a sticker."""
    if answer.unsupported is None and answer.attachment is None:
        return True
    kind = answer.unsupported or "tệp"
    turn.say(texts.UNSUPPORTED_MESSAGE.format(kind=kind, hint="") + texts.IN_FLOW_HINT)
    return False


def _ask(turn: Turn, conversation: Step, step: str, text: str) -> None:
    turn.reply(conversation.ask(step, text))
    turn.save(conversation)


def _on_name(turn: Turn, conversation: Step, answer: Answer) -> None:
    conversation.state.full_name = validation.person_name(answer.text)
    _ask(turn, conversation, STEP_POSITION, texts.ASK_POSITION)


def _on_position(turn: Turn, conversation: Step, answer: Answer) -> None:
    conversation.state.position = validation.position(answer.text)
    _ask(turn, conversation, STEP_PHONE, texts.ASK_PHONE)


def _on_phone(turn: Turn, conversation: Step, answer: Answer) -> None:
    state = conversation.state
    state.phone = validation.phone(answer.text)
    invite = turn.session.get(Invite, state.invite_id)
    agency = plans.agency_by_id(turn.session, invite.agency_id) if invite else None
    question = texts.CONFIRM_REGISTRATION.format(
        agency=agency.name if agency else "?",
        name=state.full_name,
        position=state.position,
        phone=state.phone,
    )
    options = [("✅ Xác nhận", OK), ("✏️ Nhập lại", REDO), ("✖️ Hủy", CANCEL)]
    turn.reply(conversation.ask(STEP_CONFIRM, question, options, per_row=3))
    turn.save(conversation)


def _on_confirm(turn: Turn, conversation: Step, answer: Answer) -> None:
    if answer.choice == CANCEL:
        turn.drop_conversation()  # the invite is free again
        turn.say(texts.CANCELLED)
    elif answer.choice == REDO:
        _ask(turn, conversation, STEP_NAME, texts.REGISTER_AGAIN)
    elif answer.choice != OK:
        turn.say(texts.ANSWER_WITH_BUTTON)
    else:
        _register(turn, conversation.state)


def _still_yours(turn: Turn, invite: Invite | None) -> str | None:
    """Why the invite cannot be used now (expired, used, taken by someone else), or None."""
    if turn.member is not None:
        return texts.ALREADY_REGISTERED.format(agency=turn.member.agency.name)
    problem = _invite_problem(turn, invite)
    if problem is None and invite is not None:
        holder = (invite.claimed_channel, invite.claimed_user_id)
        if holder != (turn.event.channel, turn.event.user_id):
            problem = texts.INVITE_USED
    return problem


def _register(turn: Turn, state: Registration) -> None:
    invite = turn.session.get(Invite, state.invite_id)
    problem = _still_yours(turn, invite)
    if problem is not None or invite is None:
        turn.drop_conversation()
        turn.say(problem or texts.INVITE_USED)
        return
    assert state.full_name and state.position and state.phone
    people.register_focal_point(
        turn.session,
        invite=invite,
        channel=turn.event.channel,
        user_id=turn.event.user_id,
        chat_id=turn.event.chat_id,
        display_name=turn.event.display_name,
        full_name=state.full_name,
        position=state.position,
        phone=state.phone,
        now=turn.now,
    )
    turn.end_conversation()
    agency = plans.agency_by_id(turn.session, invite.agency_id)
    assert agency is not None
    deadlines = deadline_lines(turn, now=turn.now)
    turn.say(texts.REGISTERED.format(agency=agency.name, deadlines=deadlines))


def _release_invite(turn: Turn, conversation: Step) -> None:
    """A registration dropped half-way frees its invite for someone else."""
    invites.release_invite_claim(
        turn.session,
        invite_id=conversation.state.invite_id,
        channel=turn.event.channel,
        user_id=turn.event.user_id,
    )


REGISTRATION = Flow(
    FLOW,
    Registration,
    {
        STEP_NAME: _on_name,
        STEP_POSITION: _on_position,
        STEP_PHONE: _on_phone,
        STEP_CONFIRM: _on_confirm,
    },
    screen=_screen,
    on_drop=_release_invite,
)
router.include_flow(REGISTRATION)


def deadline_lines(turn: Turn, *, now: datetime) -> str:
    zone = ZoneInfo(turn.plan.timezone)
    lines = []
    for deadline in plans.deadlines(turn.session, plan_id=turn.plan_id):
        passed = plans.due_at(deadline.due_before, zone) <= now
        lines.append(
            f"• {deadline.title}: trước ngày {fmt_date(deadline.due_before)}"
            + (" (đã qua hạn)" if passed else "")
        )
    return "\n".join(lines)
