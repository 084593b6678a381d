"""Conversations: typed state kept in the database, and buttons bound to the current step.

A flow keeps what the user answered so far in its own pydantic model (its *state*), stored as
JSON in ``dialog_states``; a restart resumes it. A step's buttons carry the step's random
token (``s.<token>.<value>``). Every new step draws a new token, so a button from an earlier
step, an earlier conversation or another user's chat no longer matches and changes nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session

from bot.dialog.events import Button, ButtonRows, IncomingEvent, TextReply
from bot.dialog.validation import fold, whole_number
from storage import dialog_states
from storage.models import DialogState

STEP_PREFIX = "s"
ACTION_PREFIX = "a"
_STEP_PAYLOAD = re.compile(r"^s\.([0-9a-f]{8})\.([A-Za-z0-9_\-]{1,50})$")
_ACTION_PAYLOAD = re.compile(r"^a\.([a-z]{1,8})\.([A-Za-z0-9_\-]{1,50})$")


def parse_step_payload(payload: str) -> tuple[str, str] | None:
    match = _STEP_PAYLOAD.match(payload)
    return (match.group(1), match.group(2)) if match else None


def parse_action_payload(payload: str) -> tuple[str, str] | None:
    match = _ACTION_PAYLOAD.match(payload)
    return (match.group(1), match.group(2)) if match else None


def action_button(label: str, action: str, argument: str, *, typed: str | None = None) -> Button:
    """A button that acts on something (not an answer); ``typed`` is the command to type instead
    on channels without buttons."""
    return Button(label=label, payload=f"{ACTION_PREFIX}.{action}.{argument}", typed=typed)


class FlowState(BaseModel):
    """What one flow remembers between steps; each flow subclasses it. ``plan_id`` is the plan
    the conversation works on (the core makes it the turn's plan at every step)."""

    model_config = ConfigDict(extra="ignore")

    plan_id: int | None = None


S = TypeVar("S", bound=FlowState)


@dataclass
class Question:
    """The options of the question asked last: numbered values and labels one can type."""

    options: list[str] = field(default_factory=list)  # empty when answers are not numbered
    labels: dict[str, str] = field(default_factory=dict)  # folded label → value


@dataclass
class Conversation(Generic[S]):
    """Where one user is in one flow, with what they answered so far."""

    flow: str
    step: str
    state: S
    token: str = ""
    question: Question = field(default_factory=Question)
    updated_at: datetime | None = None  # when it was last saved (None: not saved yet)

    def ask(
        self,
        step: str,
        text: str,
        options: list[tuple[str, str]] | None = None,
        *,
        per_row: int = 2,
        numbered: bool = True,
    ) -> TextReply:
        """Move to ``step`` and build its question; options are (label, value) pairs."""
        self.step = step
        self.token = secrets.token_hex(4)
        options = options or []
        self.question = Question(
            options=[value for _, value in options] if numbered else [],
            labels={fold(label): value for label, value in options},
        )
        rows = tuple(
            tuple(
                Button(label=label, payload=f"{STEP_PREFIX}.{self.token}.{value}")
                for label, value in options[start : start + per_row]
            )
            for start in range(0, len(options), per_row)
        )
        buttons: ButtonRows = rows
        return TextReply(text=text, buttons=buttons, numbered=numbered)

    def choice_from_text(self, text: str) -> str | None:
        """An option picked by typing its number or its label."""
        typed = text.strip().rstrip(".)").strip()
        options = self.question.options
        number = whole_number(typed, max_digits=3)
        if number is not None and options and 1 <= number <= len(options):
            return options[number - 1]
        return self.question.labels.get(fold(typed))

    def is_option(self, value: str) -> bool:
        return value in self.question.labels.values()


class ConversationUnreadable(Exception):
    """A stored conversation no flow can read any more (its flow or state changed shape)."""


def load_conversation(
    session: Session,
    *,
    channel: str,
    user_id: str,
    states: Mapping[str, type[FlowState]],
) -> Conversation[Any] | None:
    """The user's conversation in progress; ``states`` gives each flow's state model."""
    stored = dialog_states.saved_step(session, channel=channel, user_id=user_id)
    if stored is None:
        return None
    data = json.loads(stored.data)
    question = Question(options=data.pop("options", []), labels=data.pop("labels", {}))
    # Rows written before state was typed keep the answers beside options and labels.
    raw_state = data.get("state", data)
    state_type = states.get(stored.flow)
    if state_type is None:
        raise ConversationUnreadable(f"no flow {stored.flow!r}")
    try:
        state = state_type.model_validate(raw_state)
    except ValidationError as exc:
        raise ConversationUnreadable(str(exc)) from exc
    return Conversation(
        flow=stored.flow,
        step=stored.step,
        state=state,
        token=stored.token,
        question=question,
        updated_at=stored.updated_at,
    )


def save_conversation(
    session: Session, conversation: Conversation[Any], *, event: IncomingEvent, now: datetime
) -> None:
    stored = dialog_states.dialog_state(session, channel=event.channel, user_id=event.user_id)
    if stored is None:
        stored = DialogState(
            channel=event.channel,
            user_id=event.user_id,
            chat_id=event.chat_id,
            flow=conversation.flow,
            step=conversation.step,
            token=conversation.token,
            updated_at=now,
        )
    stored.chat_id = event.chat_id
    stored.flow, stored.step = conversation.flow, conversation.step
    stored.token = conversation.token
    stored.data = json.dumps(
        {
            "state": conversation.state.model_dump(mode="json"),
            "options": conversation.question.options,
            "labels": conversation.question.labels,
        },
        ensure_ascii=False,
    )
    stored.updated_at = now
    session.add(stored)
