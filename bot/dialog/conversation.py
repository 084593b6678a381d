"""Dialog state kept in the database, and buttons bound to the current step.

A step's buttons carry the step's random token (``s.<token>.<value>``). Every new step draws a
new token, so a button from an earlier step, an earlier conversation or another user's chat
no longer matches and changes nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.dialog.events import Button, ButtonRows, TextReply
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


@dataclass
class Conversation:
    """Where one user is in one flow, with what they answered so far."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    token: str = ""
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
        self.data["options"] = [value for _, value in options] if numbered else []
        self.data["labels"] = {fold(label): value for label, value in options}
        rows: list[tuple[Button, ...]] = []
        for start in range(0, len(options), per_row):
            rows.append(
                tuple(
                    Button(label=label, payload=f"{STEP_PREFIX}.{self.token}.{value}")
                    for label, value in options[start : start + per_row]
                )
            )
        buttons: ButtonRows = tuple(rows)
        return TextReply(text=text, buttons=buttons, numbered=numbered)

    def choice_from_text(self, text: str) -> str | None:
        """An option picked by typing its number or its label."""
        typed = text.strip().rstrip(".)").strip()
        options: list[str] = self.data.get("options", [])
        number = whole_number(typed, max_digits=3)
        if number is not None and options and 1 <= number <= len(options):
            return options[number - 1]
        labels: dict[str, str] = self.data.get("labels", {})
        return labels.get(fold(typed))

    def is_option(self, value: str) -> bool:
        labels: dict[str, str] = self.data.get("labels", {})
        return value in labels.values()


def load_conversation(session: Session, *, channel: str, user_id: str) -> Conversation | None:
    state = dialog_states.dialog_state(session, channel=channel, user_id=user_id)
    if state is None:
        return None
    return Conversation(
        flow=state.flow,
        step=state.step,
        data=json.loads(state.data),
        token=state.token,
        updated_at=state.updated_at,
    )


def save_conversation(
    session: Session,
    conversation: Conversation,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    now: datetime,
) -> None:
    state = dialog_states.dialog_state(session, channel=channel, user_id=user_id)
    if state is None:
        state = DialogState(
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            flow=conversation.flow,
            step=conversation.step,
            token=conversation.token,
            updated_at=now,
        )
    state.chat_id = chat_id
    state.flow, state.step, state.token = conversation.flow, conversation.step, conversation.token
    state.data = json.dumps(conversation.data, ensure_ascii=False)
    state.updated_at = now
    session.add(state)
