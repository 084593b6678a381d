"""Neutral incoming events and replies, shared by every channel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scheduler.messages import Button, ButtonRows

__all__ = [
    "Attachment",
    "Button",
    "ButtonRows",
    "DialogResult",
    "DocumentReply",
    "IncomingEvent",
    "Reply",
    "TextReply",
    "parse_command",
]

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> tuple[str, tuple[str, ...], str] | None:
    """``"/moi@bot SYT"`` → ("moi", ("SYT",), "SYT"); None when the text is not a command."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    rest = (match.group(2) or "").strip()
    return match.group(1).lower(), tuple(rest.split()), rest


@dataclass(frozen=True)
class Attachment:
    """A file the user sent; ``file_id`` is the channel's own handle for it."""

    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    # The file's bytes, when the channel fetched them (a plan document a coordinator sends);
    # a report's file is kept by its handle only.
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class IncomingEvent:
    """Something a user did: wrote text, sent a command, pressed a button or sent a file."""

    channel: str
    user_id: str
    chat_id: str
    display_name: str = ""
    text: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    rest: str = ""  # the command's arguments as typed, for free text like /thongbao
    payload: str | None = None
    attachment: Attachment | None = None
    unsupported: str | None = None  # e.g. "sticker": something the bot cannot read
    update_id: str | None = None  # the channel's id of the update, when it gives one

    @classmethod
    def from_text(
        cls,
        *,
        channel: str,
        user_id: str,
        chat_id: str,
        text: str,
        display_name: str = "",
        update_id: str | None = None,
    ) -> IncomingEvent:
        """A typed message: a command when it starts with "/", plain text otherwise."""
        parsed = parse_command(text)
        if parsed is None:
            return cls(
                channel=channel,
                user_id=user_id,
                chat_id=chat_id,
                display_name=display_name,
                text=text,
                update_id=update_id,
            )
        command, args, rest = parsed
        return cls(
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            display_name=display_name,
            command=command,
            args=args,
            rest=rest,
            update_id=update_id,
        )


@dataclass(frozen=True)
class TextReply:
    """A message with optional buttons.

    ``numbered`` tells channels without buttons to list the options as numbered lines the user
    answers by number; when False (e.g. a percentage), they list the labels as a hint only.
    """

    text: str
    buttons: ButtonRows = ()
    numbered: bool = True


@dataclass(frozen=True)
class DocumentReply:
    """A file: new ``content`` to upload, or a ``file_id`` the channel already holds."""

    filename: str
    caption: str = ""
    content: bytes | None = None
    file_id: str | None = None
    mime_type: str = "application/octet-stream"

    @property
    def is_picture(self) -> bool:
        """A picture the bot made (a chart): channels show it as an image where they can."""
        return self.content is not None and self.mime_type.startswith("image/")


Reply = TextReply | DocumentReply


@dataclass
class DialogResult:
    """What the core answers: replies to the user, a short notice for a pressed button."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    outbox_queued: int = 0
    accepted_button: bool = False
