"""Drive the dialog core directly, as one user on one channel, without any network."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dialog.core import DialogCore
from bot.dialog.events import (
    Attachment,
    DialogResult,
    DocumentReply,
    IncomingEvent,
    Reply,
    TextReply,
    documents_to_make,
    make_documents,
)
from storage.database import Database


@dataclass
class CoreChat:
    """One user talking to the core; remembers the last buttons the bot showed."""

    database: Database
    core: DialogCore
    user_id: str
    channel: str = "telegram"
    display_name: str = "Người dùng thử"
    last: DialogResult = field(default_factory=DialogResult)

    def _handle(self, event: IncomingEvent) -> list[Reply]:
        self.last = self.database.run_sync(self.core.handle, event)
        if documents_to_make(self.last):  # as the service does, once the turn has committed
            self.last = self.database.run_sync(make_documents, self.last)
        return self.last.replies

    def send(self, text: str) -> list[Reply]:
        return self._handle(
            IncomingEvent.from_text(
                channel=self.channel,
                user_id=self.user_id,
                chat_id=self.user_id,
                text=text,
                display_name=self.display_name,
            )
        )

    def send_file(
        self, name: str, file_id: str = "file-1", size: int = 1234, caption: str | None = None
    ) -> list[Reply]:
        return self._handle(
            IncomingEvent(
                channel=self.channel,
                user_id=self.user_id,
                chat_id=self.user_id,
                text=caption,
                attachment=Attachment(file_id, name, "application/pdf", size),
            )
        )

    def send_sticker(self) -> list[Reply]:
        return self._handle(
            IncomingEvent(
                channel=self.channel,
                user_id=self.user_id,
                chat_id=self.user_id,
                unsupported="nhãn dán",
            )
        )

    def press_payload(self, payload: str) -> list[Reply]:
        return self._handle(
            IncomingEvent(
                channel=self.channel, user_id=self.user_id, chat_id=self.user_id, payload=payload
            )
        )

    def buttons(self) -> list[tuple[str, str]]:
        """(label, payload) of every button in the last replies."""
        return [
            (button.label, button.payload)
            for reply in self.last.replies
            if isinstance(reply, TextReply)
            for row in reply.buttons
            for button in row
        ]

    def payload_of(self, label_part: str) -> str:
        for label, payload in self.buttons():
            if label_part in label:
                return payload
        raise AssertionError(f"no button containing {label_part!r}; buttons: {self.buttons()}")

    def press(self, label_part: str) -> list[Reply]:
        return self.press_payload(self.payload_of(label_part))

    def text(self) -> str:
        """All text of the last replies, joined."""
        return "\n".join(
            reply.text if isinstance(reply, TextReply) else reply.caption
            for reply in self.last.replies
        )

    def documents(self) -> list[DocumentReply]:
        return [reply for reply in self.last.replies if isinstance(reply, DocumentReply)]
