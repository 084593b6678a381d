"""The neutral message model: what the dialog core answers and the outbox delivers.

A message is text with optional buttons. Channels with buttons show them; the others write the
options out (see ``bot.channels.text``). A button either sends a payload back (an answer, an
action) or opens a link: on Telegram a link button may open its page as a Web App inside
the chat; channels without buttons write the link out. Shared by the dialog core, the outbox
and every channel adapter, so it sits below them all.
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

    A link button (:meth:`link`) has a ``url`` and no payload: nothing comes back, the page
    opens. With ``web_app`` Telegram opens it inside the chat as a Web App (an https:// page
    that receives the user's signed ``initData``); elsewhere the link is written out.
    """

    label: str
    payload: str = ""
    typed: str | None = None
    url: str | None = None
    web_app: bool = False

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("button label must not be empty")
        if self.url is not None:
            if self.payload or not self.url.startswith(("https://", "http://")):
                raise ValueError(f"a link button has an http(s) url and no payload: {self.url!r}")
            if self.web_app and not self.url.startswith("https://"):
                raise ValueError(f"a Web App opens only an https:// page: {self.url!r}")
            return
        if self.web_app:
            raise ValueError("a Web App button needs its url")
        encoded = self.payload.encode("utf-8")
        if not encoded or len(encoded) > CALLBACK_DATA_MAX_BYTES or not self.payload.isascii():
            raise ValueError(f"button payload must be 1-64 ASCII bytes: {self.payload!r}")

    @classmethod
    def link(cls, label: str, url: str, *, web_app: bool = False) -> Button:
        """A button that opens ``url`` (inside Telegram as a Web App with ``web_app``)."""
        return cls(label=label, url=url, web_app=web_app)


ButtonRows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Picture:
    """A picture the bot made (a chart, PNG), sent after a message's text."""

    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    """A text with optional buttons: actions, never numbered answers (the scheduler sends
    messages outside any conversation); then its pictures, if any."""

    text: str
    buttons: ButtonRows = field(default=())
    # A text too long for one message goes out in pieces, then each picture is one more; an
    # earlier attempt that failed part way delivered this many, so a retry starts after them
    # (nobody gets a piece twice).
    pieces_sent: int = 0
    pictures: tuple[Picture, ...] = ()

    def options(self) -> list[Button]:
        return [button for row in self.buttons for button in row]


def buttons_to_json(rows: ButtonRows) -> str | None:
    if not rows:
        return None
    return json.dumps([[_button_json(b) for b in row] for row in rows], ensure_ascii=False)


def _button_json(button: Button) -> dict[str, object]:
    if button.url is not None:
        return {"label": button.label, "url": button.url, "web_app": button.web_app}
    return {"label": button.label, "payload": button.payload, "typed": button.typed}


def buttons_from_json(text: str | None) -> ButtonRows:
    if not text:
        return ()
    return tuple(
        tuple(
            Button(
                label=item["label"],
                payload=item.get("payload", ""),
                typed=item.get("typed"),
                url=item.get("url"),
                web_app=bool(item.get("web_app", False)),
            )
            for item in row
        )
        for row in json.loads(text)
    )
