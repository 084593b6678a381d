"""A focal point registers through an invite: name, position, phone, confirm.

Also /ketnoi: a one-time code that adds an account on another channel to a focal point.
"""

from __future__ import annotations

import re

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.guide import help_for
from bot.dialog.plan_membership import offers_to, period_lines
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, Role, Turn
from storage import invites, people, plans
from storage.formats import fmt_datetime
from storage.models import FocalPoint, Invite, MembershipState, PlanStatus, PlanUnit

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
        focal_point_id=turn.member.focal_point_id,
        organisation_id=turn.member.organisation_id,
        created_by=turn.actor,
        now=turn.now,
        ttl=turn.settings.invite_ttl,
    )
    turn.say(
        texts.LINK_CODE_CREATED.format(
            name=turn.member.full_name,
            agency=turn.member.organisation_name,
            code=created.code,
            how=how_to_use_code(turn, created.code),
            expires=fmt_datetime(created.expires_at, turn.zone),
        )
    )


def _use_link_code(turn: Turn, invite: Invite) -> None:
    """A /ketnoi code adds an account on ANOTHER channel to the focal point who asked for it."""
    focal_point = turn.session.get(FocalPoint, invite.focal_point_id)
    agency = people.organisation_by_id(turn.session, invite.organisation_id)
    asked_on = invite.created_by.split(":", 1)[0]
    if focal_point is None or not focal_point.active or agency is None:
        turn.say(texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    if asked_on == turn.event.channel:
        channel = turn.settings.display_name(asked_on)
        turn.say(texts.LINK_CODE_SAME_CHANNEL.format(channel=channel))
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
        return texts.INVITE_EXPIRED.format(
            expires=fmt_datetime(invite.expires_at, turn.zone), coordinator=turn.coordinator_name
        )
    return None


def _unit_invited(turn: Turn, invite: Invite) -> PlanUnit | None:
    """The unit an invite is for, while its plan still names it (and is not a draft)."""
    plan = plans.plan_by_id(turn.session, invite.plan_id) if invite.plan_id else None
    if plan is None or plan.id is None or plan.status in (PlanStatus.DRAFT, PlanStatus.ARCHIVED):
        return None
    unit = plans.unit_of(turn.session, plan_id=plan.id, organisation_id=invite.organisation_id)
    return unit if unit is not None and unit.active else None


def _claimable(turn: Turn, invite: Invite) -> str | None:
    """Why this user cannot open the invite for registration, or None once it is theirs."""
    if _unit_invited(turn, invite) is None:
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
    """Open an invite: check it, bind it to this user and ask for their name (a focal point of
    the invited organisation simply joins the invite's plan)."""
    invite = invites.invite_by_code(turn.session, code) if INVITE_CODE_PATTERN.match(code) else None
    if invite is not None and invite.plan_id is not None:
        turn.plan = plans.plan_by_id(turn.session, invite.plan_id)
    problem = _invite_problem(turn, invite)
    if problem is None and invite is not None and turn.member is not None:
        _member_opens(turn, invite)
        return
    if problem is None and invite is not None and invite.focal_point_id is not None:
        _use_link_code(turn, invite)
        return
    if turn.member is not None:
        turn.say(texts.ALREADY_REGISTERED.format(agency=turn.member.organisation_name))
        return
    if problem is None and invite is not None:
        problem = _claimable(turn, invite)
    if problem is not None or invite is None or invite.id is None:
        turn.say(problem or texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    open_now = turn.conversation.state if turn.conversation is not None else None
    if isinstance(open_now, Registration) and open_now.invite_id != invite.id:
        turn.drop_conversation()  # a newer invite replaces the one open
    unit = _unit_invited(turn, invite)
    assert unit is not None and turn.plan is not None
    state = Registration(invite_id=invite.id, plan_id=unit.plan_id)
    conversation = REGISTRATION.new(state)
    welcome = texts.REGISTER_WELCOME.format(
        coordinator=turn.coordinator_name, agency=unit.name, number=turn.plan.number
    )
    turn.reply(conversation.ask(STEP_NAME, welcome))
    turn.save(conversation)


def _member_opens(turn: Turn, invite: Invite) -> None:
    """A focal point opens an invite: of their own organisation, they join its plan."""
    assert turn.member is not None
    unit = _unit_invited(turn, invite)
    if invite.focal_point_id is not None or invite.organisation_id != turn.member.organisation_id:
        turn.say(texts.ALREADY_REGISTERED.format(agency=turn.member.organisation_name))
        return
    if unit is None or turn.plan is None or turn.plan.id is None:
        turn.say(texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    if turn.plan.id in turn.member.plan_ids:
        turn.say(texts.ALREADY_JOINED.format(agency=unit.name, number=turn.plan.number))
        return
    people.decide_membership(
        turn.session,
        focal_point_id=turn.member.focal_point_id,
        plan_id=turn.plan.id,
        state=MembershipState.JOINED,
        now=turn.now,
    )
    invite.used_at, invite.focal_point_id = turn.now, turn.member.focal_point_id
    invite.claimed_channel, invite.claimed_user_id = turn.event.channel, turn.event.user_id
    turn.session.add(invite)
    lines = period_lines(turn.session, plan=turn.plan, unit=unit, now=turn.now)
    turn.say(
        texts.JOINED_BY_INVITE.format(
            agency=unit.name, number=turn.plan.number, title=turn.plan.title, periods=lines
        )
    )


# --- the registration conversation ---------------------------------------------------------

Step = Conversation[Registration]


def _screen(turn: Turn, conversation: Step, answer: Answer) -> bool:
    """Every step wants typed text or a button, not a file or a sticker. (A registration the
    one-plan releases left open works in its invite's plan.)"""
    if turn.plan is None:
        invite = turn.session.get(Invite, conversation.state.invite_id)
        if invite is not None and invite.plan_id is not None:
            turn.plan = plans.plan_by_id(turn.session, invite.plan_id)
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
    unit = _unit_invited(turn, invite) if invite else None
    question = texts.CONFIRM_REGISTRATION.format(
        agency=unit.name if unit else "?",
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
        return texts.ALREADY_REGISTERED.format(agency=turn.member.organisation_name)
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
    unit = _unit_invited(turn, invite)
    assert unit is not None and turn.plan is not None
    deadlines = period_lines(turn.session, plan=turn.plan, unit=unit, now=turn.now)
    turn.say(
        texts.REGISTERED.format(agency=unit.name, number=turn.plan.number, deadlines=deadlines)
    )
    for offer in offers_to(turn, organisation_id=unit.organisation_id, except_plan_id=unit.plan_id):
        turn.reply(offer)


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
