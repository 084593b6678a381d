"""A focal point registers through an invite: name, position, phone, confirm."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation
from bot.dialog.core import INVITE_CODE_PATTERN, Answer, Turn, drop_conversation
from bot.dialog.events import TextReply
from scheduler.texts import fmt_date, fmt_datetime
from storage import invites, people, plans
from storage.models import FocalPoint, Invite

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "cửa sổ dòng lệnh"}

FLOW = "dang_ky"
STEP_NAME, STEP_POSITION, STEP_PHONE, STEP_CONFIRM = "ho_ten", "chuc_vu", "dien_thoai", "xac_nhan"
OK, REDO, CANCEL = "ok", "redo", "cancel"


def start(turn: Turn) -> None:
    """/start [CODE]: open an invite, or greet."""
    if not turn.event.args:
        from bot.dialog.core import help_for

        help_for(turn)
        return
    start_with_code(turn, turn.event.args[0])


def how_to_use_code(turn: Turn, code: str) -> str:
    """Where to send an invite or link code: a Telegram deep link, a message to the Zalo bot."""
    channels = turn.settings.channels
    lines = ""
    if "telegram" in channels:
        telegram = turn.settings.bot_usernames.get("telegram")
        lines += (
            texts.CODE_ON_TELEGRAM_LINK.format(link=f"https://t.me/{telegram}?start={code}")
            if telegram
            else texts.CODE_ON_TELEGRAM.format(code=code)
        )
    if "zalo" in channels:
        zalo = turn.settings.bot_usernames.get("zalo")
        lines += texts.CODE_ON_ZALO.format(name=f" «{zalo}»" if zalo else "")
    if "console" in channels:
        lines += texts.CODE_ON_CONSOLE
    return lines


def link_code(turn: Turn) -> None:
    """/ketnoi: a code that adds another channel (Zalo, Telegram) to this focal point."""
    assert turn.member is not None
    if not turn.settings.has_other_channel:
        name = CHANNEL_NAMES.get(turn.event.channel, turn.event.channel)
        turn.say(texts.NO_OTHER_CHANNEL.format(channel=name))
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
            channel=CHANNEL_NAMES.get(turn.event.channel, turn.event.channel),
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
    agency = None
    if problem is None and invite is not None:
        agency = plans.agency_by_id(turn.session, invite.agency_id)
        if agency is None or agency.plan_id != turn.plan_id or not agency.active:
            problem = texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name)
        elif not invites.claim_invite(
            turn.session,
            invite=invite,
            channel=turn.event.channel,
            user_id=turn.event.user_id,
            now=turn.now,
        ):
            problem = texts.INVITE_USED
    if problem is not None or invite is None or agency is None:
        turn.say(problem or texts.INVITE_NOT_FOUND.format(coordinator=turn.coordinator_name))
        return
    previous = turn.conversation.data.get("invite_id") if turn.conversation else None
    if previous is not None and previous != invite.id:  # a newer invite replaces the one open
        drop_conversation(turn)
    conversation = Conversation(flow=FLOW, step=STEP_NAME, data={"invite_id": invite.id})
    question = conversation.ask(
        STEP_NAME,
        texts.REGISTER_WELCOME.format(
            coordinator=turn.coordinator_name, agency=agency.name, number=turn.plan.number
        ),
    )
    turn.save(conversation)
    turn.reply(question)


class RegistrationFlow:
    def answer(self, turn: Turn, conversation: Conversation, answer: Answer) -> None:
        step = conversation.step
        if answer.unsupported is not None or answer.attachment is not None:
            kind = answer.unsupported or "tệp"
            turn.say(texts.UNSUPPORTED_MESSAGE.format(kind=kind, hint="") + texts.IN_FLOW_HINT)
            return
        try:
            if step == STEP_NAME:
                conversation.data["full_name"] = validation.person_name(answer.text)
                turn.reply(conversation.ask(STEP_POSITION, texts.ASK_POSITION))
            elif step == STEP_POSITION:
                conversation.data["position"] = validation.position(answer.text)
                turn.reply(conversation.ask(STEP_PHONE, texts.ASK_PHONE))
            elif step == STEP_PHONE:
                conversation.data["phone"] = validation.phone(answer.text)
                turn.reply(self._confirm_question(turn, conversation))
            elif step == STEP_CONFIRM:
                self._on_confirm(turn, conversation, answer)
                return
        except validation.InputError as problem:
            turn.say(str(problem) + texts.IN_FLOW_HINT)
            return
        turn.save(conversation)

    def _confirm_question(self, turn: Turn, conversation: Conversation) -> TextReply:
        invite = turn.session.get(Invite, conversation.data["invite_id"])
        agency = plans.agency_by_id(turn.session, invite.agency_id) if invite else None
        return conversation.ask(
            STEP_CONFIRM,
            texts.CONFIRM_REGISTRATION.format(
                agency=agency.name if agency else "?",
                name=conversation.data["full_name"],
                position=conversation.data["position"],
                phone=conversation.data["phone"],
            ),
            [("✅ Xác nhận", OK), ("✏️ Nhập lại", REDO), ("✖️ Hủy", CANCEL)],
            per_row=3,
        )

    def _on_confirm(self, turn: Turn, conversation: Conversation, answer: Answer) -> None:
        if answer.choice == CANCEL:
            drop_conversation(turn)  # the invite is free again
            turn.say(texts.CANCELLED)
            return
        if answer.choice == REDO:
            turn.reply(conversation.ask(STEP_NAME, texts.REGISTER_AGAIN))
            turn.save(conversation)
            return
        if answer.choice != OK:
            turn.say(texts.ANSWER_WITH_BUTTON)
            return
        invite = turn.session.get(Invite, conversation.data["invite_id"])
        problem = _invite_problem(turn, invite)
        if (
            problem is None
            and invite is not None
            and (
                invite.claimed_channel != turn.event.channel
                or invite.claimed_user_id != turn.event.user_id
            )
        ):
            problem = texts.INVITE_USED
        if turn.member is not None:
            problem = texts.ALREADY_REGISTERED.format(agency=turn.member.agency.name)
        if problem is not None or invite is None:
            drop_conversation(turn)
            turn.say(problem or texts.INVITE_USED)
            return
        people.register_focal_point(
            turn.session,
            invite=invite,
            channel=turn.event.channel,
            user_id=turn.event.user_id,
            chat_id=turn.event.chat_id,
            display_name=turn.event.display_name,
            full_name=conversation.data["full_name"],
            position=conversation.data["position"],
            phone=conversation.data["phone"],
            now=turn.now,
        )
        turn.end_conversation()
        agency = plans.agency_by_id(turn.session, invite.agency_id)
        assert agency is not None
        turn.say(
            texts.REGISTERED.format(
                agency=agency.name, deadlines=deadline_lines(turn, now=turn.now)
            )
        )


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
