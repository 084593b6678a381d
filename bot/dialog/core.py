"""The dialog core: one neutral event in, replies out, in one database transaction.

:meth:`DialogCore.handle` is synchronous and takes the session, so it runs in a worker thread
(``await database.run(core.handle, event)``) and is tested without any network. Channels only
translate: their update → :class:`IncomingEvent`, :class:`DialogResult` → their API calls. The
core only routes: every command, button action and conversation belongs to a feature router
(:mod:`bot.dialog.router`) that the composition root includes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import texts
from bot.dialog.conversation import (
    Conversation,
    ConversationUnreadable,
    load_conversation,
    parse_action_payload,
    parse_step_payload,
)
from bot.dialog.events import DialogResult, IncomingEvent, TextReply
from bot.dialog.plan_cache import PlanCache
from bot.dialog.plan_choice import choose_plan
from bot.dialog.router import Registry, Router
from bot.dialog.types import Answer, DialogSettings, Role, Turn
from storage import dialog_states, people

log = logging.getLogger(__name__)

MAX_COMMAND_LENGTH = 4000
# A conversation left half-done this long is dropped: a "1" typed days later must not send a
# report nobody remembers composing.
CONVERSATION_TTL = timedelta(hours=24)

# Records in the turn's transaction that its event is handled; False when it was already.
Claim = Callable[[Session], bool]


class DialogCore:
    """Routes events to the commands, flows and button actions of the included routers."""

    def __init__(self, settings: DialogSettings, routers: Iterable[Router] = ()) -> None:
        self.settings = settings
        self.plans = PlanCache()  # plans change only when loaded: kept between turns
        self.registry = Registry()
        self.include_routers(*routers)

    def include_routers(self, *routers: Router) -> None:
        for router in routers:
            self.registry.include(router)

    # --- entry point ------------------------------------------------------------------------

    def handle(
        self, session: Session, event: IncomingEvent, *, claim: Claim | None = None
    ) -> DialogResult:
        """Handle one event, in a transaction of its own; the caller commits what it changed.
        ``claim``, run first in the same transaction, records the event as handled (False: it
        was already, and nothing is done).

        A turn that lost a write race (another turn committed the same unique key between its
        check and its write: two people claiming one thing at once) is run once more from the
        start of the transaction, ``claim`` included: it then sees what the other wrote and
        answers as for anyone else. The whole transaction is rolled back for that rather than a
        savepoint: two more statements and their bookkeeping on every turn cost a fifth of it,
        for a race that is rare. (Every event was cleaned when it was built: see
        :class:`IncomingEvent`.)
        """
        for attempt in (1, 2):
            if claim is not None and not claim(session):
                return DialogResult()
            try:
                result = self._handle(session, event)
                session.flush()  # a lost race shows here, not in the caller's commit
                return result
            except IntegrityError as error:
                session.rollback()  # what the lost attempt read and wrote is gone
                if attempt == 1:
                    reason = str(error.orig).splitlines()[0]
                    log.warning("a turn lost a write race (%s); running it again", reason)
                else:
                    log.exception("a turn ran into the same write conflict twice")
        if claim is not None and not claim(session):  # handled: with the answer below
            return DialogResult()
        return DialogResult(replies=[TextReply(texts.WRITE_CONFLICT)])

    def _handle(self, session: Session, event: IncomingEvent) -> DialogResult:
        turn, lost = self._turn(session, event)
        if turn.member is None or turn.member.blocked:
            people.mark_user_reachable(session, channel=event.channel, user_id=event.user_id)
        if lost and self._answers_a_conversation(event):
            turn.refuse_button(texts.CONVERSATION_LOST)
            return turn.result
        if turn.conversation is not None and self._expired(turn):
            turn.drop_conversation()
            if self._answers_a_conversation(event):  # a command or an action goes on
                turn.refuse_button(texts.CONVERSATION_EXPIRED)
                return turn.result
        if event.payload is not None:
            self._on_payload(turn, event.payload)
        elif event.command is not None:
            self._on_command(turn, event.command)
        else:
            self._on_message(turn)
        return turn.result

    def _turn(self, session: Session, event: IncomingEvent) -> tuple[Turn, bool]:
        """The turn, and whether a conversation the user had could not be read any more."""
        turn = Turn(
            session=session,
            event=event,
            settings=self.settings,
            registry=self.registry,
            now=self.settings.clock(),
            member=people.membership(session, channel=event.channel, user_id=event.user_id),
            is_coordinator=(event.channel, event.user_id) in self.settings.coordinators,
            conversation=None,
            plans=self.plans,
        )
        try:
            turn.conversation = load_conversation(
                session,
                channel=event.channel,
                user_id=event.user_id,
                states=self.registry.flow_states,
            )
        except ConversationUnreadable:  # written by an older version: start afresh
            dialog_states.clear_dialog_state(session, channel=event.channel, user_id=event.user_id)
            return turn, True
        return turn, False

    @staticmethod
    def _expired(turn: Turn) -> bool:
        saved = turn.conversation.updated_at if turn.conversation else None
        return saved is not None and saved < turn.now - CONVERSATION_TTL

    def _answers_a_conversation(self, event: IncomingEvent) -> bool:
        """An answer to a question (typed, or a step button), not something that starts anew."""
        if event.command is not None:
            return False
        if event.payload is not None:
            return parse_step_payload(event.payload) is not None
        text = (event.text or "").strip()
        return not any(handler.matches(text) for handler in self.registry.messages)

    @staticmethod
    def _enter_plan_of(turn: Turn, conversation: Conversation[Any]) -> None:
        """A conversation works on the plan it was started for."""
        plan_id = conversation.state.plan_id
        if plan_id is not None:
            turn.plan = turn.plans.plan(turn.session, plan_id)

    # --- routing ----------------------------------------------------------------------------

    def _on_payload(self, turn: Turn, payload: str) -> None:
        step = parse_step_payload(payload)
        if step is not None:
            self._on_step_button(turn, *step)
            return
        action = parse_action_payload(payload)
        handler = self.registry.actions.get(action[0]) if action is not None else None
        if handler is None:
            turn.refuse_button(texts.FORGED_BUTTON)
            return
        handler(turn)
        # A refused action sets a notice; only an accepted one retires the keyboard.
        turn.result.accepted_button = turn.result.notice is None

    def _on_step_button(self, turn: Turn, token: str, value: str) -> None:
        conversation = turn.conversation
        if conversation is None or conversation.token != token:
            turn.refuse_button(texts.STALE_BUTTON)
            return
        flow = self.registry.flows.get(conversation.flow)
        if flow is None or not conversation.is_option(value):
            turn.refuse_button(texts.FORGED_BUTTON)
            return
        turn.result.accepted_button = True
        self._enter_plan_of(turn, conversation)
        flow.answer(turn, conversation, Answer(choice=value))

    def _on_command(self, turn: Turn, name: str) -> None:
        command = self.registry.commands.get(name)
        if command is None:
            turn.say(texts.UNKNOWN_COMMAND.format(command=name))
        elif len(turn.event.rest) > MAX_COMMAND_LENGTH:
            turn.say(texts.TOO_LONG_COMMAND.format(length=len(turn.event.rest)))
        elif command.role == Role.COORDINATOR and not turn.is_coordinator:
            turn.say(texts.COORDINATOR_ONLY.format(command=name, coordinator=turn.coordinator_name))
        elif command.role == Role.FOCAL_POINT and turn.member is None:
            if turn.is_coordinator:
                turn.say(texts.FOCAL_POINT_ONLY.format(command=name))
            else:
                turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
        elif choose_plan(turn, command):
            command.handler(turn)

    def _on_message(self, turn: Turn) -> None:
        event = turn.event
        text = event.text or ""
        for handler in self.registry.messages:
            if handler.matches(text.strip()) and handler.handle(turn, text.strip()):
                return
        conversation = turn.conversation
        flow = self.registry.flows.get(conversation.flow) if conversation else None
        if conversation is None and event.attachment is not None:
            for file_handler in self.registry.files:
                if file_handler.accepts(event.attachment) and file_handler.handle(turn):
                    return
        if conversation is not None and flow is not None:
            answer = Answer(
                choice=conversation.choice_from_text(text) if text else None,
                text=event.text,
                attachment=event.attachment,
                unsupported=event.unsupported,
            )
            self._enter_plan_of(turn, conversation)
            flow.answer(turn, conversation, answer)
            return
        if event.unsupported is not None or (event.attachment is not None and not text):
            kind = event.unsupported or "tệp"
            turn.say(texts.UNSUPPORTED_MESSAGE.format(kind=kind, hint=turn.file_hint))
        elif not text.strip():
            turn.say(texts.EMPTY_MESSAGE)
        elif self.registry.fallback is not None:
            self.registry.fallback(turn)
