"""The neutral message model: what the dialog core answers and the outbox delivers.

A message is text with optional buttons. Channels with buttons show them; the others write the
options out (see ``bot.channels.text``). Shared by the dialog core, the outbox and every channel
adapter, so it sits below them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit for a button's callback_data


@dataclass(frozen=True)
class Button:
    """An option the user can pick; ``payload`` comes back when they pick it.

    ``typed`` is what to type instead on a channel without buttons (e.g. "/baocao"), for a
    button that is not one of the numbered answers to a question.
    """

    label: str
    payload: str
    typed: str | None = None

    def __post_init__(self) -> None:
        encoded = self.payload.encode("utf-8")
        if not encoded or len(encoded) > CALLBACK_DATA_MAX_BYTES or not self.payload.isascii():
            raise ValueError(f"button payload must be 1-64 ASCII bytes: {self.payload!r}")
        if not self.label.strip():
            raise ValueError("button label must not be empty")


ButtonRows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class OutgoingMessage:
    """A text with optional buttons: actions, never numbered answers (the scheduler sends
    messages outside any conversation)."""

    text: str
    buttons: ButtonRows = field(default=())
    # A text too long for one message goes out in pieces; an earlier attempt that failed part
    # way delivered this many, so a retry starts after them (nobody gets a piece twice).
    pieces_sent: int = 0

    def options(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def buttons_to_json(rows: ButtonRows) -> str | None:
    if not rows:
        return None
    return json.dumps(
        [[{"label": b.label, "payload": b.payload, "typed": b.typed} for b in row] for row in rows],
        ensure_ascii=False,
    )


def buttons_from_json(text: str | None) -> ButtonRows:
    if not text:
        return ()
    return tuple(
        tuple(
            Button(label=item["label"], payload=item["payload"], typed=item.get("typed"))
            for item in row
        )
        for row in json.loads(text)
    )
