"""Zalo, through the Zalo Bot API (bot-api.zaloplatforms.com), on a plain httpx client.

What this relies on (Zalo Bot Platform documentation, "Zalo Bot API", as mirrored in public
clients such as OpenClaw's ``extensions/zalo/src/api.ts``):

- every method is ``POST {base}/bot{token}/{method}`` with a JSON body, and answers
  ``{"ok": bool, "result": …, "error_code": int, "description": str}`` — both the HTTP status
  and ``ok`` are checked;
- ``getUpdates`` long-polls (``timeout`` in seconds, sent as a string) and returns ONE update as
  ``result``: ``{"event_name": "message.text.received" | "message.image.received" |
  "message.sticker.received" | "message.unsupported.received", "message": {"message_id",
  "from": {"id", "display_name"}, "chat": {"id", "chat_type"}, "date", "text" | "photo_url" /
  "caption" | "sticker"}}``; when nothing arrives it answers 408, which is not an error;
- ``setWebhook`` takes ``url`` and ``secret_token`` (8–256 characters); Zalo then POSTs each
  update (unwrapped) with the header ``X-Bot-Api-Secret-Token``;
- ``sendMessage`` text is 1–2000 characters; there are no buttons and no documents, so options
  are written out as numbered lines and files are announced, not sent — except a photo a user
  sent on Zalo, which goes back by its URL through ``sendPhoto``. The pictures the bot makes
  (the charts of /tonghop) have no URL (the bot publishes no files), so one message lists them
  and says where to see them: Telegram, or the Excel workbook's chart sheet.

The documentation does not say how Zalo answers a message to a user who blocked the bot; this
adapter treats 403 (HTTP or ``error_code``) as "recipient unreachable". Nor does it publish a
rate limit for bots: everything the bot sends takes a slot of the channel's
:class:`SendingBudget` (``ZALO_MAX_RATE``, 5 per second by default), replies first; a 429, which
carries no retry_after, pauses the channel for :data:`BUSY_PAUSE` seconds.

Zalo has no offsets: an update it delivered (webhook answered 200, or long poll returned) is not
delivered again on purpose. So every update is stored in the inbox (:mod:`storage.inbox`) first
and handled from there, one at a time in arrival order, by a single worker; a crash loses
nothing (the next start handles what is pending), and a repeat is recognised by its message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from bot.channels.chat_queues import ChatQueues
from bot.channels.errors import (
    ApiServerError,
    ApiUnreachable,
    ChannelStartError,
    NotABotApi,
    TokenRefused,
    WebhookRefused,
)
from bot.channels.retry import deliver_pieces, retrying
from bot.channels.text import longest_prefix, split_text, with_options
from bot.dialog.events import (
    Attachment,
    DialogResult,
    DocumentReply,
    IncomingEvent,
    Reply,
    TextReply,
)
from bot.dialog.types import ChannelProfile
from scheduler.messages import OutgoingMessage, Picture
from scheduler.messenger import (
    BotUnauthorized,
    ChannelPaused,
    DeliveryError,
    PermanentDeliveryError,
    RecipientUnreachable,
    TransientDeliveryError,
)
from scheduler.pacing import SendingBudget
from storage import inbox
from storage.database import Database
from storage.models import InboxState, InboxUpdate

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TOKEN_VARIABLE = "ZALO_BOT_TOKEN"
API_VARIABLE = "ZALO_API_BASE_URL"
WEBHOOK_URL_VARIABLE = "ZALO_WEBHOOK_URL"
LISTEN_VARIABLE = "ZALO_WEBHOOK_LISTEN"
TEXT_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_IDLE = 408
DEFAULT_MAX_RATE = 5.0  # messages per second: Zalo publishes no limit; stay well below any
BUSY_PAUSE = 1.0  # seconds nothing goes to Zalo after a 429 (Zalo gives no retry_after)
INBOX_LIMIT = 1000  # updates waiting to be handled; the webhook answers 503 beyond
INBOX_KEEP = inbox.KEEP_HANDLED
PRUNE_EVERY = inbox.PRUNE_EVERY
INBOX_WINDOW = 100  # updates handed to chats' queues and not yet handled, at most
HANDLING_ATTEMPTS = 5  # an update the database could not take is tried again, this often
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
ERROR_REPLY = "Xin lỗi, bot gặp lỗi khi xử lý tin nhắn. Vui lòng thử lại sau ít phút."
DOCUMENT_NOT_SUPPORTED = (
    "📎 {caption}\nZalo chưa hỗ trợ gửi tệp «{filename}». Vui lòng dùng Telegram để nhận tệp này."
)
PICTURES_NOT_SUPPORTED = (
    "🖼 Zalo chỉ gửi được ảnh đã có sẵn trên mạng, nên bot chưa gửi được {count} biểu đồ kèm "
    "theo:\n{captions}\nXem các biểu đồ này bằng lệnh /tonghop trên Telegram, hoặc ở trang "
    "«Biểu đồ» của tệp Excel (/xuat); bảng số liệu ở trên vẫn đầy đủ."
)
UNSUPPORTED_LABELS = {
    "message.sticker.received": "nhãn dán",
    "message.unsupported.received": "tin nhắn chưa hỗ trợ",
}

EventHandler = Callable[[IncomingEvent], Awaitable[DialogResult]]


class ZaloApiError(Exception):
    """A failed Zalo Bot API call: what came back, if anything. Never holds the bot token."""

    def __init__(
        self,
        method: str,
        detail: str,
        *,
        status: int | None,
        error_code: int | None = None,
        timed_out: bool = False,
        bot_api_answer: bool = True,
    ) -> None:
        super().__init__(f"{method}: {detail}")
        self.method = method
        self.detail = detail
        self.status = status  # None: no answer at all
        self.error_code = error_code
        self.timed_out = timed_out
        self.bot_api_answer = bot_api_answer  # False: an answer, but not the Bot API's JSON

    @property
    def code(self) -> int | None:
        """The most specific code Zalo gave: ``error_code``, else the HTTP status."""
        return self.error_code if self.error_code is not None else self.status

    @property
    def server_busy(self) -> bool:
        """Zalo answered but could not serve the call now (429, 5xx): worth trying again."""
        return self.code is not None and (self.code == 429 or self.code >= 500)


class ZaloBotApi:
    """A typed client for the methods nhacviec uses."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        request_timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._request_timeout = request_timeout
        self._client = httpx.AsyncClient(transport=transport, timeout=request_timeout)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    async def call(
        self,
        method: str,
        body: Mapping[str, Any] | None = None,
        *,
        wait_seconds: float | None = None,
    ) -> Any:
        """Call ``method``; returns ``result`` or raises :class:`ZaloApiError`."""
        url = f"{self.base_url}/bot{self._token}/{method}"
        try:
            response = await self._client.post(
                url, json=dict(body or {}), timeout=wait_seconds or self._request_timeout
            )
        except httpx.HTTPError as exc:  # timeouts, refused connections …
            raise ZaloApiError(
                method,
                self._redact(f"{type(exc).__name__}: {exc}".rstrip(": ")),
                status=None,
                timed_out=isinstance(exc, httpx.TimeoutException),
            ) from None
        try:
            data = response.json()
        except ValueError:  # not JSON, or not even UTF-8 (a proxy's error page)
            data = None
        if not isinstance(data, dict):
            raise ZaloApiError(
                method,
                f"HTTP {response.status_code}, not a JSON answer",
                status=response.status_code,
                bot_api_answer=False,
            )
        if response.is_success and data.get("ok") is True:
            return data.get("result")
        error_code = data.get("error_code")
        description = self._redact(str(data.get("description") or "không rõ"))
        raise ZaloApiError(
            method,
            f"HTTP {response.status_code}, {error_code}: {description}",
            status=response.status_code,
            error_code=error_code if isinstance(error_code, int) else None,
        )

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, poll_seconds: int) -> dict[str, Any] | None:
        """One update, or None when the long poll ran out (Zalo answers 408)."""
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(poll_seconds)}, wait_seconds=poll_seconds + 10
            )
        except ZaloApiError as exc:
            if exc.code == POLL_IDLE:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> None:
        await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> None:
        body = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            body["caption"] = caption[: longest_prefix(caption, TEXT_LIMIT)]
        await self.call("sendPhoto", body)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def aclose(self) -> None:
        await self._client.aclose()


def delivery_error(exc: ZaloApiError) -> DeliveryError:
    """Classify a Zalo failure for the outbox."""
    code = exc.code
    if code == 429:
        return TransientDeliveryError(str(exc), retry_after=BUSY_PAUSE)
    if code is None or exc.server_busy or code == POLL_IDLE:
        return TransientDeliveryError(str(exc))
    if code == 401:  # the token was revoked: keep the messages for a new one
        log.error("Zalo refuses the bot token: %s", exc)
        return BotUnauthorized(str(exc))
    if code == 403:
        return RecipientUnreachable(str(exc))
    return PermanentDeliveryError(str(exc))


def message_key(update: Mapping[str, Any]) -> str:
    """What identifies an update: its message id (a digest of it, or of the whole update when
    there is none, if it does not look like one)."""
    message = update.get("message")
    message_id = message.get("message_id") if isinstance(message, dict) else None
    if isinstance(message_id, str | int) and _MESSAGE_ID.fullmatch(str(message_id)):
        return str(message_id)
    shown = json.dumps(message_id if message_id else update, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(shown.encode("utf-8", "surrogatepass")).hexdigest()


def event_from_update(update: Mapping[str, Any]) -> IncomingEvent | None:
    """A Zalo update as a neutral event (None for what the bot ignores: groups, bots, junk)."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict) or sender.get("is_bot"):
        return None
    if chat.get("chat_type", "PRIVATE") != "PRIVATE" or not sender.get("id") or not chat.get("id"):
        return None
    user_id, chat_id = str(sender["id"]), str(chat["id"])
    name = str(sender.get("display_name") or sender.get("name") or sender.get("first_name") or "")
    event_name = str(update.get("event_name") or "")
    text = message.get("text")
    photo = message.get("photo_url") or message.get("photo")
    key = message_key(update)
    if event_name in ("", "message.text.received") and isinstance(text, str):
        return IncomingEvent.from_text(
            channel=CHANNEL,
            user_id=user_id,
            chat_id=chat_id,
            text=text,
            display_name=name,
            update_id=key,
        )
    if event_name in ("", "message.image.received") and isinstance(photo, str) and photo:
        caption = message.get("caption")
        return IncomingEvent(
            channel=CHANNEL,
            user_id=user_id,
            chat_id=chat_id,
            display_name=name,
            text=caption if isinstance(caption, str) else None,
            attachment=Attachment(photo, f"anh-zalo-{key.removeprefix('sha256:')[:64]}.jpg"),
            update_id=key,
        )
    return IncomingEvent(
        channel=CHANNEL,
        user_id=user_id,
        chat_id=chat_id,
        display_name=name,
        unsupported=UNSUPPORTED_LABELS.get(event_name, "tin nhắn chưa hỗ trợ"),
        update_id=key,
    )


# The Zalo Bot API delivers images only: said where files are asked for.
FILE_HINT = (
    "\nTrên Zalo, bot chỉ nhận được ảnh (chụp trang báo cáo); tệp PDF, Word, Excel xin "
    "gửi qua Telegram hoặc gửi trực tiếp cho cơ quan điều phối."
)


def zalo_profile(bot_name: Callable[[], str | None]) -> ChannelProfile:
    """How the core speaks of Zalo; ``bot_name`` is the bot's, known once it started."""

    def how_to_use_code(code: str) -> str:
        name = bot_name()
        return f"Trên Zalo: gửi mã trên (chỉ mã) cho bot Zalo{f' «{name}»' if name else ''}.\n"

    return ChannelProfile(
        name=CHANNEL, display_name="Zalo", how_to_use_code=how_to_use_code, file_hint=FILE_HINT
    )


def zalo_photo_url(reply: Reply) -> str | None:
    """A photo a user sent on Zalo (its handle is the photo's URL) can be sent back as a photo."""
    if not isinstance(reply, DocumentReply) or reply.content is not None or not reply.file_id:
        return None
    return reply.file_id if reply.file_id.startswith(("https://", "http://")) else None


def pictures_note(pictures: Sequence[DocumentReply | Picture]) -> str:
    """One message for every picture the bot made (Zalo's sendPhoto takes a URL, and the bot
    publishes none): what each one was, and where to see it."""
    captions = "\n".join(f"• {picture.caption or picture.filename}" for picture in pictures)
    return PICTURES_NOT_SUPPORTED.format(count=len(pictures), captions=captions)


def render(reply: Reply) -> str:
    """A neutral reply as Zalo text: options numbered, files announced."""
    if isinstance(reply, TextReply):
        return with_options(reply.text, reply.buttons, numbered=reply.numbered)
    return DOCUMENT_NOT_SUPPORTED.format(caption=reply.caption, filename=reply.filename)


@dataclass(frozen=True)
class PendingUpdate:
    """A stored update still to be handled, read, with the chat whose queue it waits in."""

    inbox_id: int
    chat: str | None
    update: object  # as Zalo sent it (None: not JSON)


def pending_update(row: InboxUpdate) -> PendingUpdate:
    """The update of an inbox row and its chat (None for junk, which has no chat)."""
    update: object = None
    try:
        update = json.loads(row.body)
        chat = update["message"]["chat"]["id"]  # type: ignore[index]
    except (ValueError, TypeError, KeyError):
        chat = None
    return PendingUpdate(row.id or 0, str(chat) if isinstance(chat, str | int) else None, update)


def _log_inbox_trouble(exc: Exception, delay: float) -> None:
    if isinstance(exc, sa.exc.OperationalError):  # the database is away or busy
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        log.warning("Zalo inbox: database unavailable (%s); retrying in %.0f s", reason, delay)
    else:
        log.exception("Zalo inbox: retrying in %.0f s", delay)


class ZaloChannel:
    """The Zalo adapter: long polling (or a webhook) into the inbox; the inbox's updates
    handled several chats at once, each chat in order; replies; the outbox Messenger."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        token: str,
        api_base_url: str,
        database: Database,
        on_event: EventHandler,
        on_outbox_queued: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_timeout: int = 30,
        error_backoff: tuple[float, float] = (1.0, 30.0),
        webhook_secret: str | None = None,
        inbox_limit: int = INBOX_LIMIT,
        inbox_keep: timedelta = INBOX_KEEP,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: SendingBudget | None = None,
    ) -> None:
        """``on_event`` handles one event in one transaction; ``database`` holds the inbox;
        ``budget`` paces everything the bot sends (5 per second unless given)."""
        self.budget = budget or SendingBudget(CHANNEL, DEFAULT_MAX_RATE)
        self.api = ZaloBotApi(token, api_base_url, transport=transport)
        self._database = database
        self._on_event = on_event
        self._on_outbox_queued = on_outbox_queued
        self._clock = clock
        self.poll_timeout = poll_timeout
        self._backoff_first, self._backoff_cap = error_backoff
        self._webhook_secret = webhook_secret
        self._inbox_limit, self._inbox_keep = inbox_limit, inbox_keep
        self._task: asyncio.Task[None] | None = None  # long polling, when not on a webhook
        self._worker: asyncio.Task[None] | None = None  # hands what the inbox holds to chats
        self._queues = ChatQueues(
            self._handle_pending, chat_of=lambda p: p.chat, on_done=self._handled
        )
        self._dispatched_to = 0  # the inbox id last handed to a chat's queue
        self._inbox_changed = asyncio.Event()
        self._caught_up = asyncio.Event()  # every pending update is handed over
        self._progress = asyncio.Event()  # an update was handled
        self._pruned_at: datetime | None = None
        self._attempts: dict[int, int] = {}  # inbox id → handlings the database refused
        self.bot_name: str | None = None
        self.profile = zalo_profile(lambda: self.bot_name)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, *, poll: bool = True) -> None:
        """Check the token (getMe); with ``poll``, drop any webhook and start long polling.
        Either way, start handling the inbox, first what an earlier run left pending.

        Raises a :class:`ChannelStartError` when Zalo's answer shows a setting to fix.
        """
        try:
            me = await self.api.get_me()
            if poll:
                await self.api.delete_webhook()
        except ZaloApiError as exc:
            raise start_error(exc, self.api.base_url) from None
        self.bot_name = str(me.get("account_name") or me.get("name") or "") or None
        self._worker = asyncio.create_task(self._dispatch_inbox(), name="zalo-inbox")
        if poll:
            self._task = asyncio.create_task(self._poll_forever(), name="zalo-polling")
        log.info("Zalo bot %s is %s", self.bot_name or "?", "polling" if poll else "ready")

    async def register_webhook(self, url: str) -> None:
        """Ask Zalo to post updates to ``url``; a refusal is a :class:`WebhookRefused`."""
        if not self._webhook_secret:
            raise ValueError("a webhook needs a secret token")
        try:
            await self.api.set_webhook(url, self._webhook_secret)
        except ZaloApiError as exc:
            raise start_error(exc, self.api.base_url) from None

    async def stop(self, grace: float = 5.0) -> None:
        """Stop polling; the inbox gets ``grace`` seconds to empty. What is left stays stored
        for the next start: an update whose turn has not committed by then is handled again."""
        await _cancel(self._task)  # nothing new comes in
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled(), timeout=grace)
        await _cancel(self._worker)
        await self._queues.drain(0)
        self._task = self._worker = None
        await self.api.aclose()

    # --- incoming: into the inbox -------------------------------------------------------------

    async def _poll_forever(self) -> None:
        delay = self._backoff_first
        while True:
            try:
                update = await self.api.get_updates(self.poll_timeout)
            except Exception as exc:  # a bug must not stop the bot from listening either
                if isinstance(exc, ZaloApiError):
                    log.warning("Zalo getUpdates failed (%s); retrying in %.0f s", exc, delay)
                else:
                    log.exception("Zalo getUpdates failed unexpectedly; retrying in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_cap)
                continue
            delay = self._backoff_first
            if update is not None:
                await self.handle_update(update)

    async def handle_update(self, update: Mapping[str, Any]) -> None:
        """Store a polled update; while the inbox is full (or the database away), wait: Zalo
        will not deliver it again."""
        delay = self._backoff_first
        while await self._store(update) is None:
            log.warning("Zalo update not stored yet (inbox full or database away); waiting")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_cap)

    async def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        """A webhook request: 403 for a wrong secret, 400 for junk, 503 while the inbox is full
        (or the database away: Zalo tries again later), else 200 once the update is stored."""
        given = headers.get(SECRET_HEADER, "")
        expected = self._webhook_secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return 403
        try:
            update = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return 400
        if isinstance(update, dict) and update.get("ok") is True and "result" in update:
            update = update["result"]
        if not isinstance(update, dict) or not isinstance(update.get("message"), dict):
            return 400
        return 200 if await self._store(update) is not None else 503

    async def _store(self, update: Mapping[str, Any]) -> inbox.Stored | None:
        """Store the update durably; None when it could not be (inbox full, database away)."""
        try:
            stored = await self._database.run(
                inbox.store_update,
                channel=CHANNEL,
                message_id=message_key(update),
                body=json.dumps(update, ensure_ascii=True),  # NUL, lone surrogates: escaped
                now=self._clock(),
                limit=self._inbox_limit,
            )
        except Exception:
            log.exception("could not store a Zalo update in the inbox")
            return None
        if stored == inbox.Stored.FULL:
            log.warning("Zalo inbox holds %d unhandled updates: refusing more", self._inbox_limit)
            return None
        if stored == inbox.Stored.NEW:
            self._caught_up.clear()
            self._inbox_changed.set()
        return stored

    # --- incoming: out of the inbox -----------------------------------------------------------

    async def _dispatch_inbox(self) -> None:
        """The worker: hands the pending updates, in arrival order, to their chats' queues
        (several chats at once, each in order), as long as it runs."""
        delay = self._backoff_first
        while True:
            self._inbox_changed.clear()  # before looking: a store from now on wakes it again
            try:
                await self._prune()
                stored = await self._database.run(
                    inbox.pending_after,
                    channel=CHANNEL,
                    after_id=self._dispatched_to,
                    limit=INBOX_WINDOW,
                )
            except Exception as exc:  # nothing was handed over: looked at again after a pause
                _log_inbox_trouble(exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_cap)
                continue
            delay = self._backoff_first
            for row in stored:
                self._dispatched_to = row.id or 0
                self._queues.put(pending_update(row))
            if not stored:
                self._caught_up.set()
                await self._inbox_changed.wait()
            while self._queues.waiting >= INBOX_WINDOW:  # the oldest ones must be handled first
                self._progress.clear()
                await self._progress.wait()

    async def _handle_pending(self, pending: PendingUpdate) -> None:
        """One update of a chat; while the database cannot take it, tried again after a pause
        (the chat's later updates wait for it)."""
        delay = self._backoff_first
        while True:
            try:
                await self._handle_stored(pending.inbox_id, pending.update)
                return
            except Exception as exc:
                _log_inbox_trouble(exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_cap)

    async def _settled(self) -> None:
        """Return once every pending update is handled (as far as this process knows)."""
        while True:
            await self._caught_up.wait()
            await self._queues.idle()
            if self._caught_up.is_set() and self._queues.waiting == 0:
                return

    def _handled(self, pending: PendingUpdate) -> None:
        self._progress.set()

    async def _prune(self) -> None:
        now = self._clock()
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            await self._database.run(inbox.prune, handled_before=now - self._inbox_keep)
            self._pruned_at = now

    async def _finish(self, inbox_id: int, state: InboxState) -> None:
        self._attempts.pop(inbox_id, None)
        await self._database.run(inbox.finish, inbox_id=inbox_id, state=state, now=self._clock())

    async def _handle_stored(self, inbox_id: int, update: object) -> None:
        """Hand one stored update to the dialog core and send its replies. Raises only when
        the database cannot record the outcome (the update is then tried again)."""
        event = event_from_update(update) if isinstance(update, dict) else None
        if event is None:
            await self._finish(inbox_id, InboxState.DONE)
            return
        try:
            result = await self._on_event(event)  # marks the update done in its transaction
        except Exception as exc:
            attempts = self._attempts[inbox_id] = self._attempts.get(inbox_id, 0) + 1
            if isinstance(exc, sa.exc.OperationalError) and attempts < HANDLING_ATTEMPTS:
                raise  # the database is away or busy: nothing was saved, try it again later
            log.exception("error while handling a Zalo update")
            await self._finish(inbox_id, InboxState.FAILED)
            try:  # nothing was saved: they may try again
                await self.send_text(event.chat_id, ERROR_REPLY)
            except (ZaloApiError, ChannelPaused):
                log.warning("could not tell the Zalo user about the error")
            return
        await self._finish(inbox_id, InboxState.DONE)  # when on_event did not already
        if result.outbox_queued:
            self._on_outbox_queued()
        try:  # what the user did is saved; only the answer is at stake now
            await self.send_replies(event.chat_id, result.replies)
        except ChannelPaused as exc:  # a long pause after a 429: already warned about
            log.warning("the reply to a Zalo user was not sent: %s", exc)
        except Exception:
            log.exception("could not send the reply to a Zalo user")

    # --- outgoing ---------------------------------------------------------------------------

    async def send_replies(self, chat_id: str, replies: list[Reply]) -> None:
        pictures = [r for r in replies if isinstance(r, DocumentReply) and r.is_picture]
        for reply in replies:
            if any(reply is picture for picture in pictures):
                continue
            photo = zalo_photo_url(reply)
            if photo is not None:
                caption = getattr(reply, "caption", None)
                await retrying(
                    partial(self.api.send_photo, chat_id, photo, caption),
                    budget=self.budget,
                    retry_delay=_reply_retry_delay,
                    rate_limit=_rate_limit,
                )
            else:
                await self.send_text(chat_id, render(reply))
        if pictures:
            await self.send_text(chat_id, pictures_note(pictures))

    async def send_text(self, chat_id: str, text: str) -> None:
        """A reply, in pieces of at most 2000 characters, each retried on 429/5xx."""
        for piece in split_text(text, TEXT_LIMIT):
            await retrying(
                partial(self.api.send_message, chat_id, piece),
                budget=self.budget,
                retry_delay=_reply_retry_delay,
                rate_limit=_rate_limit,
            )

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        """Messenger: send one outbox message, classifying failures for retry or record.

        A retry resumes after the pieces an earlier attempt delivered.
        """
        text = with_options(message.text, message.buttons, numbered=False)
        pieces = split_text(text, TEXT_LIMIT)
        if message.pictures:  # one more piece: what they were, and where to see them
            pieces.append(pictures_note(message.pictures))
        sends = [partial(self.api.send_message, chat_id, p) for p in pieces]
        await deliver_pieces(self.budget, sends, first=message.pieces_sent, classify=_classify)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def start_error(exc: ZaloApiError, api_base_url: str) -> ChannelStartError:
    """The setting to blame for a call that failed while starting."""
    if exc.status is None:  # no answer at all: refused, timed out, name not found …
        return ApiUnreachable(
            API_VARIABLE, "Zalo", api_base_url, exc.detail, timed_out=exc.timed_out
        )
    if exc.server_busy:
        return ApiServerError(API_VARIABLE, "Zalo", api_base_url, exc.detail)
    if not exc.bot_api_answer:  # a web page, a proxy's error page
        return NotABotApi(API_VARIABLE, "Zalo", api_base_url, f"HTTP {exc.status}")
    if exc.method == "setWebhook":
        return WebhookRefused(WEBHOOK_URL_VARIABLE, "Zalo", exc.detail)
    # getMe (or deleteWebhook) refused: Zalo does not know this token.
    return TokenRefused(TOKEN_VARIABLE, "Zalo", f"Zalo trả lời: {exc.detail}")


def _reply_retry_delay(exc: Exception) -> float | None:
    """Retry a reply Zalo refused for now (429, 5xx); not one that timed out (it may have
    arrived) nor a refused token."""
    return 1.0 if isinstance(exc, ZaloApiError) and exc.server_busy else None


def _rate_limit(exc: Exception) -> float | None:
    """How long a 429 pauses the channel."""
    return BUSY_PAUSE if isinstance(exc, ZaloApiError) and exc.code == 429 else None


def _classify(exc: Exception) -> DeliveryError | None:
    return delivery_error(exc) if isinstance(exc, ZaloApiError) else None


def webhook_path(url: str) -> str:
    """The path part of the public webhook URL, where the local server listens."""
    return httpx.URL(url).path or "/"


def webhook_routes(channel: ZaloChannel, path: str) -> list[AbstractRouteDef]:
    """The route Zalo posts updates to, for the service's one HTTP application
    (:func:`web.server.build_web_app`)."""
    from aiohttp import web

    async def receive(request: web.Request) -> web.Response:
        status = await channel.handle_webhook(request.headers, await request.read())
        return web.Response(status=status, text="ok" if status == 200 else "refused")

    return [web.post(path, receive)]


async def serve_webhook(
    channel: ZaloChannel, *, host: str, port: int, path: str
) -> Callable[[], Awaitable[None]]:
    """Serve Zalo's webhook POSTs on host:port/path; returns a function that stops serving.

    Raises :class:`ListenFailed` when it cannot listen there. With the dashboard on, the
    composition root adds :func:`webhook_routes` to the dashboard's application instead.
    """
    from web.server import Listen, build_web_app, start_web

    app = build_web_app(routes=webhook_routes(channel, path))
    server = await start_web(app, [Listen(host, port, LISTEN_VARIABLE, "nhận webhook")])
    log.info("Zalo webhook listening on %s:%d%s", host, port, path)
    return server.stop
