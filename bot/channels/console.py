"""A console channel: chat with the bot in a terminal, no token needed.

Options are shown as numbered lines (type the number). Lines starting with ":" are console
commands: ":nguoi ID" switches who you are (the default user is a coordinator), ":tep PATH"
sends a file, ":thoat" quits. Files the bot sends are written under ``data/console-files``.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.channels.text import render_options
from bot.dialog.events import (
    Attachment,
    DialogResult,
    DocumentReply,
    IncomingEvent,
    Reply,
    TextReply,
)
from bot.dialog.types import ChannelProfile
from scheduler.messages import OutgoingMessage
from scheduler.pacing import Priority, SendingBudget

CHANNEL = "console"
COORDINATOR_USER = "dieu-phoi"

EventHandler = Callable[[IncomingEvent], Awaitable[DialogResult]]

CONSOLE_HELP = (
    "Cửa sổ trò chuyện với bot (kênh console). Bạn đang là «{user}».\n"
    "• Gõ lệnh như trên Telegram, ví dụ /huongdan, /tonghop, /moi SYT\n"
    "• Gõ số thứ tự để chọn phương án\n"
    "• :nguoi TÊN — đổi người dùng (ví dụ :nguoi can-bo-1 để thử vai cán bộ đầu mối)\n"
    "• :tep ĐƯỜNG_DẪN — gửi một tệp\n"
    "• :thoat — thoát"
)


def console_profile() -> ChannelProfile:
    """How the core speaks of the console: one person plays every role, so nothing to link."""
    return ChannelProfile(
        name=CHANNEL,
        display_name="cửa sổ dòng lệnh",
        how_to_use_code=lambda code: (
            "Trong cửa sổ dòng lệnh: gõ :nguoi <tên> để đóng vai người được mời, rồi gõ mã.\n"
        ),
        links_accounts=False,
    )


FETCHED_UP_TO = 20 * 1024 * 1024  # the bytes of a file this small travel with it (a plan document)


def file_attachment(path_text: str) -> Attachment | None:
    """A local file as an attachment (its path is its id on this channel)."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        return None
    size = path.stat().st_size
    content = path.read_bytes() if size <= FETCHED_UP_TO else None
    return Attachment(str(path.resolve()), path.name, None, size, content=content)


class ConsoleChannel:
    """Reads lines from a stream and prints the bot's replies; also the console Messenger."""

    channel = CHANNEL
    max_rate = 50.0  # messages per second: fast enough to read along

    def __init__(
        self,
        *,
        on_event: EventHandler,
        on_outbox_queued: Callable[[], None] = lambda: None,
        files_dir: Path = Path("data/console-files"),
        output: TextIO | None = None,
        user: str = COORDINATOR_USER,
    ) -> None:
        self._on_event = on_event
        self._on_outbox_queued = on_outbox_queued
        self._files_dir = files_dir
        self._output = output or sys.stdout
        self.user = user
        self.profile = console_profile()
        self.budget = SendingBudget(CHANNEL, self.max_rate)

    def _print(self, text: str) -> None:
        self._output.write(text + "\n")
        self._output.flush()

    def show(self, reply: Reply, *, to: str | None = None) -> None:
        prefix = f"📨 [gửi tới {to}] " if to else "🤖 "
        if isinstance(reply, TextReply):
            self._print(prefix + reply.text)
            for line in render_options(reply.buttons, numbered=reply.numbered):
                self._print(line)
            return
        self._files_dir.mkdir(parents=True, exist_ok=True)
        path = self._files_dir / Path(reply.filename).name
        if reply.content is not None:
            path.write_bytes(reply.content)
            self._print(f"{prefix}📎 {reply.caption} → đã lưu tệp {path}")
        else:
            self._print(f"{prefix}📎 {reply.caption} (tệp {reply.filename}: {reply.file_id})")

    async def handle_line(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to quit."""
        line = line.rstrip("\n")
        if line.strip() in (":thoat", ":quit", ":q"):
            return False
        if line.startswith(":nguoi"):
            name = line.removeprefix(":nguoi").strip()
            if name:
                self.user = name
            self._print(f"Bạn đang là «{self.user}».")
            return True
        if line.startswith(":tep"):
            attachment = file_attachment(line.removeprefix(":tep").strip())
            if attachment is None:
                self._print(f"Không tìm thấy tệp {line.removeprefix(':tep').strip()}")
                return True
            event = IncomingEvent(
                channel=CHANNEL,
                user_id=self.user,
                chat_id=self.user,
                display_name=self.user,
                attachment=attachment,
            )
        elif line.startswith(":"):
            self._print(CONSOLE_HELP.format(user=self.user))
            return True
        else:
            event = IncomingEvent.from_text(
                channel=CHANNEL,
                user_id=self.user,
                chat_id=self.user,
                text=line,
                display_name=self.user,
            )
        result = await self._on_event(event)
        for reply in result.replies:
            self.show(reply)
        if result.outbox_queued:
            self._on_outbox_queued()
        return True

    async def run(self, stream: asyncio.StreamReader) -> None:
        """Read lines until end of input or ":thoat"."""
        self._print(CONSOLE_HELP.format(user=self.user))
        while True:
            self._output.write(f"{self.user}> ")
            self._output.flush()
            raw = await stream.readline()
            if not raw:
                return
            if not await self.handle_line(raw.decode("utf-8", errors="replace")):
                return

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        """Messenger: show what the scheduler sends to a console user."""
        reply = TextReply(text=message.text, buttons=message.buttons, numbered=False)
        await self.budget.acquire(Priority.BULK)
        self.show(reply, to=chat_id)
        for picture in message.pictures:
            picture_reply = DocumentReply(
                filename=picture.filename,
                caption=picture.caption,
                content=picture.content,
                mime_type="image/png",
            )
            self.show(picture_reply, to=chat_id)


async def stdin_reader() -> asyncio.StreamReader:
    """Standard input as an asyncio stream (so reading never blocks the loop)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if sys.stdin.isatty() or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        return reader

    # A file or /dev/null (e.g. under systemd): the event loop cannot watch it; read in a thread.
    def pump() -> None:
        try:
            for line in sys.stdin.buffer:
                loop.call_soon_threadsafe(reader.feed_data, line)
            loop.call_soon_threadsafe(reader.feed_eof)
        except RuntimeError:  # the service stopped first: the loop is closed
            return

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return reader
