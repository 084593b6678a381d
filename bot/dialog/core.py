"""The dialog core: one neutral event in, replies out, in one database transaction.

:meth:`DialogCore.handle` is synchronous and takes the session, so it runs in a worker thread
(``await database.run(core.handle, event)``) and is tested without any network. Channels only
translate: their update → :class:`IncomingEvent`, :class:`DialogResult` → their API calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot import texts
from bot.dialog.conversation import (
    Conversation,
    load_conversation,
    parse_action_payload,
    parse_step_payload,
    save_conversation,
)
from bot.dialog.events import (
    Attachment,
    ButtonRows,
    DialogResult,
    DocumentReply,
    IncomingEvent,
    TextReply,
)
from scheduler.reminders import CoordinatorAddress, coordinator_name
from storage import dialog_states, invites, people, plans
from storage.models import Plan
from storage.people import Membership

INVITE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_COMMAND_LENGTH = 4000
# A conversation left half-done this long is dropped: a "1" typed days later must not send a
# report nobody remembers composing.
CONVERSATION_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Answer:
    """What the user gave to the current step: a picked option, typed text, or a file."""

    choice: str | None = None
    text: str | None = None
    attachment: Attachment | None = None
    unsupported: str | None = None


@dataclass
class DialogSettings:
    """What the core needs to know about the deployment."""

    plan_code: str
    coordinators: frozenset[tuple[str, str]]  # (channel, user id)
    coordinator_addresses: tuple[CoordinatorAddress, ...]
    clock: Callable[[], datetime]
    invite_ttl: timedelta = timedelta(days=7)
    bot_usernames: dict[str, str] = field(default_factory=dict)  # channel → @username
    # The channels this service runs: what invites and help mention.
    channels: frozenset[str] = frozenset({"telegram", "zalo"})

    @property
    def has_other_channel(self) -> bool:
        """More than one chat app: /ketnoi can add the other one to a focal point."""
        return len(self.channels & {"telegram", "zalo"}) > 1


@dataclass
class Turn:
    """One event being handled: who, what plan, and the replies collected so far."""

    session: Session
    event: IncomingEvent
    settings: DialogSettings
    plan: Plan
    now: datetime
    member: Membership | None
    is_coordinator: bool
    conversation: Conversation | None
    coordinator_name: str
    result: DialogResult = field(default_factory=DialogResult)

    @property
    def plan_id(self) -> int:
        assert self.plan.id is not None
        return self.plan.id

    @property
    def file_hint(self) -> str:
        """What this user's channel can carry as a file (empty where anything goes)."""
        return texts.FILE_HINTS.get(self.event.channel, "")

    @property
    def actor(self) -> str:
        return f"{self.event.channel}:{self.event.user_id}"

    def say(self, text: str, buttons: ButtonRows = (), *, numbered: bool = True) -> None:
        self.result.replies.append(TextReply(text=text, buttons=buttons, numbered=numbered))

    def reply(self, reply: TextReply | DocumentReply) -> None:
        self.result.replies.append(reply)

    def save(self, conversation: Conversation) -> None:
        save_conversation(
            self.session,
            conversation,
            channel=self.event.channel,
            user_id=self.event.user_id,
            chat_id=self.event.chat_id,
            now=self.now,
        )
        self.conversation = conversation

    def end_conversation(self) -> None:
        dialog_states.clear_dialog_state(
            self.session, channel=self.event.channel, user_id=self.event.user_id
        )
        self.conversation = None


class Flow(Protocol):
    """A multi-step conversation (registration, report, picking an agency)."""

    def answer(self, turn: Turn, conversation: Conversation, answer: Answer) -> None: ...


Handler = Callable[[Turn], None]


@dataclass(frozen=True)
class Command:
    handler: Handler
    role: str  # "any", "focal_point" or "coordinator"


class DialogCore:
    """Routes events to commands, flows and button actions."""

    def __init__(self, settings: DialogSettings) -> None:
        from bot.dialog import coordinator, focal_point, registration, reporting

        self.settings = settings
        self.flows: dict[str, Flow] = {
            registration.FLOW: registration.RegistrationFlow(),
            reporting.FLOW: reporting.ReportFlow(),
            coordinator.PICK_FLOW: coordinator.PickAgencyFlow(),
        }
        self.commands: dict[str, Command] = {
            "start": Command(registration.start, "any"),
            "huy": Command(self._cancel, "any"),
            "huongdan": Command(self._help, "any"),
            "help": Command(self._help, "any"),
            "trogiup": Command(self._help, "any"),
            "baocao": Command(reporting.start, "focal_point"),
            "nhiemvu": Command(focal_point.show_tasks, "focal_point"),
            "tinhhinh": Command(focal_point.show_status, "focal_point"),
            "ketnoi": Command(registration.link_code, "focal_point"),
            "tep": Command(coordinator.report_file_command, "any"),
            "tonghop": Command(coordinator.overview, "coordinator"),
            "quahan": Command(coordinator.overdue, "coordinator"),
            "donvi": Command(coordinator.agency_detail, "coordinator"),
            "xuat": Command(coordinator.export, "coordinator"),
            "moi": Command(coordinator.invite, "coordinator"),
            "themdonvi": Command(coordinator.add_agency, "coordinator"),
            "nhac": Command(coordinator.nudge, "coordinator"),
            "thongbao": Command(coordinator.broadcast, "coordinator"),
        }
        self.actions: dict[str, Handler] = {
            "bc": reporting.start_from_button,
            "tep": coordinator.send_report_file,
        }

    # --- entry point ------------------------------------------------------------------------

    def handle(self, session: Session, event: IncomingEvent) -> DialogResult:
        """Handle one event; everything it changes is committed together by the caller."""
        turn = self._turn(session, event)
        people.mark_user_reachable(session, channel=event.channel, user_id=event.user_id)
        if turn.conversation is not None and self._expired(turn):
            drop_conversation(turn)
            if _answers_a_conversation(event):  # a command, a button action or a code goes on
                turn.result.notice = texts.CONVERSATION_EXPIRED
                turn.say(texts.CONVERSATION_EXPIRED)
                return turn.result
        if event.payload is not None:
            self._on_payload(turn, event.payload)
        elif event.command is not None:
            self._on_command(turn, event.command)
        else:
            self._on_message(turn)
        return turn.result

    def _turn(self, session: Session, event: IncomingEvent) -> Turn:
        plan = plans.plan_by_code(session, self.settings.plan_code)
        if plan is None or plan.id is None:
            raise RuntimeError(f"plan {self.settings.plan_code} is not loaded")
        return Turn(
            session=session,
            event=event,
            settings=self.settings,
            plan=plan,
            now=self.settings.clock(),
            member=people.membership(session, channel=event.channel, user_id=event.user_id),
            is_coordinator=(event.channel, event.user_id) in self.settings.coordinators,
            conversation=load_conversation(session, channel=event.channel, user_id=event.user_id),
            coordinator_name=coordinator_name(session, plan=plan),
        )

    @staticmethod
    def _expired(turn: Turn) -> bool:
        saved = turn.conversation.updated_at if turn.conversation else None
        return saved is not None and saved < turn.now - CONVERSATION_TTL

    # --- routing ----------------------------------------------------------------------------

    def _on_payload(self, turn: Turn, payload: str) -> None:
        step = parse_step_payload(payload)
        if step is not None:
            token, value = step
            conversation = turn.conversation
            if conversation is None or conversation.token != token:
                turn.result.notice = texts.STALE_BUTTON
                turn.say(texts.STALE_BUTTON)
                return
            if not conversation.is_option(value) or conversation.flow not in self.flows:
                turn.result.notice = texts.FORGED_BUTTON
                turn.say(texts.FORGED_BUTTON)
                return
            turn.result.accepted_button = True
            self.flows[conversation.flow].answer(turn, conversation, Answer(choice=value))
            return
        action = parse_action_payload(payload)
        if action is not None and action[0] in self.actions:
            self.actions[action[0]](turn)
            # A refused action sets a notice; only an accepted one retires the keyboard.
            turn.result.accepted_button = turn.result.notice is None
            return
        turn.result.notice = texts.FORGED_BUTTON
        turn.say(texts.FORGED_BUTTON)

    def _on_command(self, turn: Turn, name: str) -> None:
        command = self.commands.get(name)
        if command is None:
            turn.say(texts.UNKNOWN_COMMAND.format(command=name))
            return
        if len(turn.event.rest) > MAX_COMMAND_LENGTH:
            turn.say(texts.TOO_LONG_COMMAND.format(length=len(turn.event.rest)))
            return
        if command.role == "coordinator" and not turn.is_coordinator:
            turn.say(texts.COORDINATOR_ONLY.format(command=name, coordinator=turn.coordinator_name))
            return
        if command.role == "focal_point" and turn.member is None:
            if turn.is_coordinator:
                turn.say(texts.FOCAL_POINT_ONLY.format(command=name))
            else:
                turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
            return
        command.handler(turn)

    def _on_message(self, turn: Turn) -> None:
        event = turn.event
        conversation = turn.conversation
        text = event.text
        stripped = (text or "").strip()
        if INVITE_CODE_PATTERN.match(stripped):
            # On Zalo an invite is opened by sending its code, at any point (like /start CODE):
            # a newer invite during registration, or a code sent by someone registered.
            known = invites.invite_by_code(turn.session, stripped) is not None
            if known or (turn.member is None and conversation is None):
                from bot.dialog import registration

                registration.start_with_code(turn, stripped)
                return
        if conversation is not None and conversation.flow in self.flows:
            choice = conversation.choice_from_text(text) if text else None
            self.flows[conversation.flow].answer(
                turn,
                conversation,
                Answer(
                    choice=choice,
                    text=text,
                    attachment=event.attachment,
                    unsupported=event.unsupported,
                ),
            )
            return
        if event.unsupported is not None or (event.attachment is not None and not text):
            turn.say(
                texts.UNSUPPORTED_MESSAGE.format(
                    kind=event.unsupported or "tệp", hint=turn.file_hint
                )
            )
            return
        if not stripped:
            turn.say(texts.EMPTY_MESSAGE)
            return
        self._help(turn)

    # --- commands every user has ------------------------------------------------------------

    def _cancel(self, turn: Turn) -> None:
        if turn.conversation is None:
            turn.say(texts.NOTHING_TO_CANCEL)
            return
        drop_conversation(turn)
        turn.say(texts.CANCELLED)

    def _help(self, turn: Turn) -> None:
        help_for(turn)


def _answers_a_conversation(event: IncomingEvent) -> bool:
    """An answer to a question (typed, or a step button), not something that starts anew."""
    if event.command is not None:
        return False
    if event.payload is not None:
        return parse_step_payload(event.payload) is not None
    return not INVITE_CODE_PATTERN.match((event.text or "").strip())


def drop_conversation(turn: Turn) -> None:
    """End the conversation in progress; an invite opened for registration is free again."""
    invite_id = turn.conversation.data.get("invite_id") if turn.conversation else None
    if isinstance(invite_id, int):
        invites.release_invite_claim(
            turn.session,
            invite_id=invite_id,
            channel=turn.event.channel,
            user_id=turn.event.user_id,
        )
    turn.end_conversation()


def help_for(turn: Turn) -> None:
    """The help text for who the user is."""
    if turn.is_coordinator:
        sections = plans.open_sections(turn.session, plan_id=turn.plan_id)
        open_section = sections[0].section if sections else "mở"
        turn.say(
            texts.HELP_COORDINATOR.format(
                coordinator=turn.coordinator_name,
                number=turn.plan.number,
                open_section=open_section,
            )
        )
    if turn.member is not None:
        turn.say(
            texts.HELP_FOCAL_POINT.format(
                agency=turn.member.agency.name,
                link=texts.HELP_LINK_LINE if turn.settings.has_other_channel else "",
            )
        )
    if not turn.is_coordinator and turn.member is None:
        turn.say(
            texts.HELP_UNREGISTERED.format(
                brand=texts.BRAND,
                number=turn.plan.number,
                title=turn.plan.title,
                coordinator=turn.coordinator_name,
            )
        )
