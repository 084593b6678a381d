"""Neutral incoming events and replies, shared by every channel.

Every event is cleaned where it is built (:class:`IncomingEvent`): whatever a channel or a user
sends, the dialog and the database only ever see text without control characters (line breaks
and tabs kept), surrogates or noncharacters, and names and payloads of a bounded length.
PostgreSQL cannot store U+0000 in a text column, and a lone surrogate cannot be encoded at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

from scheduler.messages import Button, ButtonRows

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = [
    "Attachment",
    "Button",
    "ButtonRows",
    "DialogResult",
    "DocumentReply",
    "IncomingEvent",
    "Reply",
    "TextReply",
    "clean_input",
    "documents_to_make",
    "make_documents",
    "parse_command",
    "without_documents_to_make",
]

DISPLAY_NAME_MAX = 200  # channel_accounts.display_name
FILE_NAME_MAX = 300  # status_updates.file_name
FIELD_MAX = 300  # ids, payloads, MIME types: far more than any channel sends

# C0 and C1 control characters but tab and line feed, surrogates, and the noncharacters
# (U+FDD0–U+FDEF and the last two code points of every plane).
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)


def clean_input(text: str) -> str:
    """``text`` without what no message may carry; a carriage return becomes a line break."""
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _bounded(text: str, limit: int) -> str:
    return clean_input(text)[:limit]


def _file_name(name: str) -> str:
    """A file name cleaned and cut to fit, keeping its extension."""
    name = " ".join(clean_input(name).split())
    if len(name) <= FILE_NAME_MAX:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        return name[:FILE_NAME_MAX]
    return f"{stem[: FILE_NAME_MAX - len(extension) - 1]}.{extension}"


_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> tuple[str, tuple[str, ...], str] | None:
    """``"/moi@bot SYT"`` → ("moi", ("SYT",), "SYT"); None when the text is not a command."""
    match = _COMMAND.match(clean_input(text).strip())
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "file_id", clean_input(self.file_id))
        if self.file_name is not None:
            object.__setattr__(self, "file_name", _file_name(self.file_name) or None)
        if self.mime_type is not None:
            object.__setattr__(self, "mime_type", _bounded(self.mime_type, FIELD_MAX) or None)
        if self.size is not None and not 0 <= self.size < 2**63:
            object.__setattr__(self, "size", None)


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

    def __post_init__(self) -> None:
        """The one place every user's input passes: clean it (see the module's docstring)."""
        clean = partial(object.__setattr__, self)
        clean("user_id", _bounded(self.user_id, FIELD_MAX))
        clean("chat_id", _bounded(self.chat_id, FIELD_MAX))
        clean("display_name", " ".join(_bounded(self.display_name, DISPLAY_NAME_MAX).split()))
        for name in ("text", "payload", "update_id", "unsupported"):
            value = getattr(self, name)
            if value is not None:
                clean(name, clean_input(value) if name == "text" else _bounded(value, FIELD_MAX))
        clean("rest", clean_input(self.rest))
        clean("args", tuple(arg for arg in map(clean_input, self.args) if arg))

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
        text = clean_input(text)
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
    """A file: new ``content`` to upload, or a ``file_id`` the channel already holds.

    A file that takes long to read from the database (the whole plan's workbook) is ``made_by``
    a function of a session instead, called once the turn has committed, in a read of its own
    (:func:`make_documents`): on SQLite the turns run one after the other, and a turn reading
    a million rows would hold up every other chat's."""

    filename: str
    caption: str = ""
    content: bytes | None = None
    file_id: str | None = None
    mime_type: str = "application/octet-stream"
    made_by: Callable[[Session], bytes] | None = None

    @property
    def is_picture(self) -> bool:
        """A picture the bot made (a chart): channels show it as an image where they can."""
        return self.content is not None and self.mime_type.startswith("image/")


Reply = TextReply | DocumentReply


def documents_to_make(result: DialogResult) -> bool:
    """Whether a reply of ``result`` is a file still to be made (see :class:`DocumentReply`)."""
    return any(isinstance(r, DocumentReply) and r.made_by is not None for r in result.replies)


def make_documents(session: Session, result: DialogResult) -> DialogResult:
    """``result`` with every file still to be made made, reading through ``session``."""
    replies: list[Reply] = []
    for reply in result.replies:
        if isinstance(reply, DocumentReply) and reply.made_by is not None:
            reply = replace(reply, content=reply.made_by(session), made_by=None)
        replies.append(reply)
    return replace(result, replies=replies)


def without_documents_to_make(result: DialogResult, note: str) -> DialogResult:
    """``result`` with ``note`` (its ``{name}``: the file's) in place of each file still to be
    made, when they could not be."""
    replies: list[Reply] = [
        TextReply(note.format(name=r.filename))
        if isinstance(r, DocumentReply) and r.made_by is not None
        else r
        for r in result.replies
    ]
    return replace(result, replies=replies)


@dataclass
class DialogResult:
    """What the core answers: replies to the user, a short notice for a pressed button."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    outbox_queued: int = 0
    accepted_button: bool = False
