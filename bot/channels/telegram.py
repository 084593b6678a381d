"""Telegram, through python-telegram-bot 22.

Handlers only translate: a Telegram update becomes an :class:`IncomingEvent`, the dialog
core's replies become Bot API calls. The same class is the Telegram :class:`Messenger` for the
outbox. PTB does not check Telegram's size limits, so this module does (4096 characters of
text, 1024 of caption, 64 bytes of callback data — the last in :class:`Button`).

Updates are fetched and handled by :mod:`bot.channels.telegram_updates`: several chats at once,
each chat's updates in order, each update confirmed to Telegram only once it is handled.

Telegram is rate limited once, by the channel's :class:`SendingBudget` (``TELEGRAM_MAX_RATE``,
30 per second by default: Telegram's documented limit for bulk messages), which replies and the
outbox share, replies first. PTB's AIORateLimiter is not used: it would limit a second time at
its own 30 per second, put a reply in the same queue as a fan-out, and log an ERROR traceback
for every 429 (with max_retries=0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from http import HTTPStatus
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
    WebAppInfo,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.bot_api_http import AiohttpRequest
from bot.channels.errors import (
    ApiServerError,
    ApiUnreachable,
    ChannelStartError,
    NotABotApi,
    TokenRefused,
)
from bot.channels.retry import deliver_pieces, retrying
from bot.channels.telegram_updates import UpdatePoller
from bot.channels.text import longest_prefix, split_text
from bot.dialog.events import (
    Attachment,
    Button,
    ButtonRows,
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
from scheduler.pacing import Priority, SendingBudget

log = logging.getLogger(__name__)

CHANNEL = "telegram"
FETCHED_UP_TO = 20 * 1024 * 1024  # getFile serves files up to 20 MB
TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
API_VARIABLE = "TELEGRAM_API_BASE_URL"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
DEFAULT_MAX_RATE = 30.0  # messages per second: Telegram's documented limit for bulk messages
CONNECTIONS = 4  # to the Bot API, for replies and the outbox (getUpdates has its own)
POOL_WAIT = 10.0  # seconds a call may wait for one of them
ERROR_REPLY = "Xin lỗi, bot gặp lỗi khi xử lý tin nhắn. Vui lòng thử lại sau ít phút."

UNSUPPORTED_KINDS = {
    "sticker": "nhãn dán",
    "voice": "tin nhắn thoại",
    "video_note": "video tròn",
    "animation": "ảnh động",
    "location": "vị trí",
    "contact": "danh bạ",
    "poll": "bình chọn",
    "dice": "xúc xắc",
    "venue": "địa điểm",
}

Menu = Sequence[tuple[str, str]]  # (command, description)

EventHandler = Callable[[IncomingEvent], Awaitable[DialogResult]]


def telegram_profile(username: Callable[[], str | None]) -> ChannelProfile:
    """How the core speaks of Telegram; ``username`` is the bot's, known once it started."""

    def how_to_use_code(code: str) -> str:
        name = username()
        if name:
            return f"Trên Telegram: mở đường link https://t.me/{name}?start={code}\n"
        return f"Trên Telegram: gửi cho bot lệnh /start {code}\n"

    return ChannelProfile(
        name=CHANNEL, display_name="Telegram", how_to_use_code=how_to_use_code, web_apps=True
    )


def keyboard(rows: ButtonRows) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[inline_button(b) for b in row] for row in rows])


def inline_button(button: Button) -> InlineKeyboardButton:
    """A neutral button as Telegram's: a callback, a link, or a Web App opened in the chat."""
    if button.url is None:
        return InlineKeyboardButton(text=button.label, callback_data=button.payload)
    if button.web_app:
        return InlineKeyboardButton(text=button.label, web_app=WebAppInfo(url=button.url))
    return InlineKeyboardButton(text=button.label, url=button.url)


def event_from_message(message: Message, update_id: int | None = None) -> IncomingEvent | None:
    """A Telegram message as a neutral event (None for what the bot ignores); ``update_id``,
    the Update's, makes what the message asks for happen once even if Telegram sends it again."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    user_id, chat_id = str(user.id), str(message.chat_id)
    update = str(update_id) if update_id is not None else None
    if message.text is not None:
        return IncomingEvent.from_text(
            channel=CHANNEL,
            user_id=user_id,
            chat_id=chat_id,
            text=message.text,
            display_name=user.full_name,
            update_id=update,
        )
    attachment = None
    if message.document is not None:
        doc = message.document
        attachment = Attachment(doc.file_id, doc.file_name, doc.mime_type, doc.file_size)
    elif message.photo:
        photo = message.photo[-1]
        attachment = Attachment(
            photo.file_id, f"anh-{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size
        )
    elif message.video is not None:
        video = message.video
        attachment = Attachment(video.file_id, video.file_name, video.mime_type, video.file_size)
    elif message.audio is not None:
        audio = message.audio
        attachment = Attachment(audio.file_id, audio.file_name, audio.mime_type, audio.file_size)
    kind = None
    if attachment is None:
        kind = next(
            (label for attr, label in UNSUPPORTED_KINDS.items() if getattr(message, attr, None)),
            "không rõ",
        )
    return IncomingEvent(
        channel=CHANNEL,
        user_id=user_id,
        chat_id=chat_id,
        display_name=user.full_name,
        text=message.caption if attachment is not None else None,
        attachment=attachment,
        unsupported=kind,
        update_id=update,
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Classify a Telegram error for the outbox."""
    if isinstance(exc, RetryAfter):
        return TransientDeliveryError(str(exc), retry_after=_seconds(exc.retry_after))
    if isinstance(exc, InvalidToken):  # revoked or mistyped: keep the messages for a new one
        log.error("Telegram refuses the bot token: %s", exc)
        return BotUnauthorized(str(exc))
    if isinstance(exc, Forbidden):
        return RecipientUnreachable(str(exc))
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            return RecipientUnreachable(str(exc))
        return PermanentDeliveryError(str(exc))
    if isinstance(exc, NetworkError):  # 5xx, timeouts, connection errors
        return TransientDeliveryError(str(exc))
    return PermanentDeliveryError(str(exc))


def _retry_after(exc: Exception) -> float | None:
    """A 429's retry_after, in seconds (None for any other error)."""
    return _seconds(exc.retry_after) if isinstance(exc, RetryAfter) else None


def _classify(exc: Exception) -> DeliveryError | None:
    return delivery_error(exc) if isinstance(exc, TelegramError) else None


def _reply_retry_delay(exc: Exception) -> float | None:
    if isinstance(exc, RetryAfter):
        return _seconds(exc.retry_after)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest | TimedOut):
        return 1.0  # refused or reset: nothing arrived. A timed-out send may have: no retry.
    return None


class AnswerRecordingRequest(AiohttpRequest):
    """The Bot API's HTTP client, remembering the last answer (status and body), and letting only as
    many calls through at once as it has connections.

    PTB keeps the HTTP status and the body of a failed call only in its error's message text;
    to tell a refused token from a web page at a wrong address, :meth:`TelegramChannel.start`
    looks at what actually came back instead.

    Calls beyond the connections wait here, in order, for POOL_WAIT at most, rather than in
    the HTTP client's pool.
    """

    def __init__(self) -> None:
        super().__init__(connections=CONNECTIONS, pool_timeout=POOL_WAIT)
        self._free_connections = asyncio.Semaphore(CONNECTIONS)
        self.last_answer: tuple[int, bytes] | None = None

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.last_answer = None  # nothing came back until something does
        async with self._connection():
            self.last_answer = await super().do_request(*args, **kwargs)
        return self.last_answer

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[None]:
        """A free connection's turn; POOL_WAIT at most."""
        try:
            async with asyncio.timeout(POOL_WAIT):
                await self._free_connections.acquire()
        except TimeoutError:
            raise TimedOut(f"no free connection to the Bot API within {POOL_WAIT:g} s") from None
        try:
            yield
        finally:
            self._free_connections.release()


def _status_text(status: int) -> str:
    """``Not Found (404)``, as PTB writes an HTTP status."""
    try:
        return f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        return f"HTTP {status}"


def _is_bot_api_answer(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:  # not JSON, or not even UTF-8
        return False
    return isinstance(answer, dict) and "ok" in answer


def start_error(
    exc: TelegramError, answer: tuple[int, bytes] | None, api_base_url: str
) -> ChannelStartError | None:
    """The setting to blame when getMe failed with ``exc`` after ``answer`` (status, body)
    came back, or None when no setting explains it."""
    if isinstance(exc, BadRequest) or not isinstance(exc, InvalidToken | NetworkError):
        return None
    if answer is None:  # no answer at all: refused, unknown host, timed out
        cause = exc.__cause__  # the HTTP library's own error, when there is one
        detail = f"{type(cause).__name__}: {cause}".rstrip(": ") if cause else exc.message
        timed_out = isinstance(exc, TimedOut)
        return ApiUnreachable(API_VARIABLE, "Telegram", api_base_url, detail, timed_out=timed_out)
    status, body = answer
    if not _is_bot_api_answer(body):  # PTB calls any 401/404 "invalid token", a web page too
        if isinstance(exc, InvalidToken):
            return NotABotApi(API_VARIABLE, "Telegram", api_base_url, _status_text(status))
        return ApiServerError(API_VARIABLE, "Telegram", api_base_url, _status_text(status))
    if isinstance(exc, InvalidToken):  # the Bot API itself says 401 (or 404 for a bad form)
        return TokenRefused(TOKEN_VARIABLE, "Telegram", "lấy mã mới từ @BotFather")
    return ApiServerError(API_VARIABLE, "Telegram", api_base_url, exc.message)


class TelegramChannel:
    """The Telegram adapter: polling for updates, sending replies, delivering the outbox."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        token: str,
        api_base_url: str,
        on_event: EventHandler,
        on_outbox_queued: Callable[[], None] = lambda: None,
        poll_timeout: int = 30,
        coordinator_chat_ids: frozenset[int] = frozenset(),
        menu: Menu = (),
        coordinator_menu: Menu = (),
        budget: SendingBudget | None = None,
    ) -> None:
        """``menu`` is everyone's command menu; ``coordinator_menu`` the coordinators' chats'.
        ``budget`` paces everything the bot sends (30 per second unless given)."""
        self.budget = budget or SendingBudget(CHANNEL, DEFAULT_MAX_RATE)
        self.coordinator_chat_ids = coordinator_chat_ids
        self.menu, self.coordinator_menu = menu, coordinator_menu
        self._on_event = on_event
        self._on_outbox_queued = on_outbox_queued
        self.poll_timeout = poll_timeout
        self.api_base_url = api_base_url
        self._request = AnswerRecordingRequest()
        self._updates_request = AiohttpRequest()  # one connection, for the long poll
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api_base_url}/bot")
            .base_file_url(f"{api_base_url}/file/bot")
            .request(self._request)
            .get_updates_request(self._updates_request)
            .updater(None)  # polled by self.poller: confirmed once handled, chats at once
            .build()
        )
        self.application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, self._on_message)
        )
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_error_handler(self._on_error)
        self.username: str | None = None
        self.profile = telegram_profile(lambda: self.username)
        self.poller = UpdatePoller(
            self.application.bot,
            self.application.process_update,
            timeout=poll_timeout,
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
        )

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), set the command menus, start polling.

        Raises a :class:`ChannelStartError` when getMe shows a setting to fix.
        """
        try:
            await self._initialize()
        except TelegramError as exc:
            problem = start_error(exc, self._request.last_answer, self.api_base_url)
            if problem is None:
                raise
            raise problem from None  # PTB's own message names the token
        self.username = self.application.bot.username
        await self._set_command_menus()
        await self.application.start()
        try:  # a webhook once set keeps getUpdates from working
            await self.application.bot.delete_webhook()
        except TelegramError as exc:
            log.warning("could not remove a Telegram webhook: %s", exc)
        self.poller.start()
        log.info("Telegram bot @%s is polling for updates", self.username)

    async def _set_command_menus(self) -> None:
        """Focal points' commands for everyone, the coordinator's in each coordinator's chat.
        Cosmetic: the bot works without them, so a failure is only a warning."""
        try:
            await self.application.bot.set_my_commands(
                [BotCommand(name, description) for name, description in self.menu]
            )
        except TelegramError as exc:
            log.warning("could not set the Telegram command menu: %s", exc)
        for chat_id in sorted(self.coordinator_chat_ids):
            try:  # a coordinator who never opened the bot has no chat yet
                await self.application.bot.set_my_commands(
                    [BotCommand(name, text) for name, text in self.coordinator_menu],
                    scope=BotCommandScopeChat(chat_id),
                )
            except TelegramError as exc:
                log.warning("could not set the command menu of coordinator %s: %s", chat_id, exc)

    async def stop(self) -> None:
        await self.poller.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _initialize(self) -> None:
        """PTB's initialize, which asks getMe; its connections closed when that fails (PTB
        leaves them open)."""
        try:
            await self.application.initialize()
        except BaseException:
            for request in (self._request, self._updates_request):
                await request.shutdown()
            raise

    # --- incoming ---------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a private message to the dialog core and send its replies."""
        message = update.effective_message
        if message is None:
            return
        event = event_from_message(message, update.update_id)
        if event is None:
            return
        event = await self._with_content(event)
        result = await self._on_event(event)  # raising here: nothing saved, _on_error tells
        if result.outbox_queued:
            self._on_outbox_queued()
        await self._reply(message.chat_id, result.replies)

    async def _with_content(self, event: IncomingEvent) -> IncomingEvent:
        """A document a coordinator sends travels with its bytes (the dialog reads plans from
        them); within getFile's 20 MB. A failed download leaves the event as it was."""
        attachment = event.attachment
        if (
            attachment is None
            or not event.user_id.isdigit()
            or int(event.user_id) not in self.coordinator_chat_ids
            or (attachment.size or 0) > FETCHED_UP_TO
        ):
            return event
        try:
            file = await self.application.bot.get_file(attachment.file_id)
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not fetch a coordinator's file: %s", exc)
            return event
        return replace(event, attachment=replace(attachment, content=content))

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a pressed button to the dialog core; answer it and drop the used keyboard."""
        query = update.callback_query
        if query is None or query.from_user is None:
            return
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        event = IncomingEvent(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            chat_id=str(chat_id),
            display_name=query.from_user.full_name,
            payload=query.data or "",
            update_id=str(update.update_id),
        )
        result = await self._on_event(event)
        notice = result.notice[:CALLBACK_ANSWER_LIMIT] if result.notice else None
        try:
            await query.answer(text=notice)
        except TelegramError as exc:  # the query may be too old to answer
            log.info("could not answer callback query: %s", exc)
        if result.accepted_button and isinstance(query.message, Message):
            try:
                await self.budget.acquire(Priority.REPLY)
                await query.message.edit_reply_markup(reply_markup=None)
            except (TelegramError, ChannelPaused) as exc:
                log.info("could not remove the used keyboard: %s", exc)
        if result.outbox_queued:
            self._on_outbox_queued()
        await self._reply(chat_id, result.replies)

    async def _reply(self, chat_id: int | str, replies: list[Reply]) -> None:
        """Send the answer to a handled update. What the user did is saved by now, so a failure
        is logged rather than answered with "try again" (which would make them do it twice)."""
        try:
            await self.send_replies(chat_id, replies)
        except ChannelPaused as exc:  # a long flood-control wait: already warned about
            log.warning("the reply to Telegram chat %s was not sent: %s", chat_id, exc)
        except TelegramError:
            log.exception("could not send the reply to Telegram chat %s", chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling a Telegram update", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.send_text(update.effective_chat.id, ERROR_REPLY)
            except (TelegramError, ChannelPaused):
                log.warning("could not tell the user about the error")

    # --- outgoing ---------------------------------------------------------------------------

    async def send_replies(self, chat_id: int | str, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, TextReply):
                await self.send_text(chat_id, reply.text, reply.buttons)
            else:
                await self.send_document(chat_id, reply)

    async def send_text(self, chat_id: int | str, text: str, buttons: ButtonRows = ()) -> None:
        """A reply, in pieces of at most 4096 characters, each retried on 429/5xx."""
        for send in self._piece_sends(chat_id, text, buttons):
            await retrying(
                send, budget=self.budget, retry_delay=_reply_retry_delay, rate_limit=_retry_after
            )

    def _piece_sends(
        self, chat_id: int | str, text: str, buttons: ButtonRows
    ) -> list[Callable[[], Awaitable[object]]]:
        """One send per piece of ``text``; the buttons go under the last piece."""
        pieces = split_text(text, TEXT_LIMIT)
        return [
            partial(
                self._send_message,
                chat_id,
                piece,
                keyboard(buttons) if index == len(pieces) - 1 else None,
            )
            for index, piece in enumerate(pieces)
        ]

    async def _send_message(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None
    ) -> object:
        """sendMessage as Bot.send_message sends it (no defaults are set), less the reading of
        the sent message into a Message nobody looks at: that took as long as the call. Errors
        are PTB's own (RetryAfter, BadRequest, ...), raised by its request layer."""
        data: dict[str, object] = {"chat_id": chat_id, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        return await self.application.bot._post("sendMessage", data)

    async def send_document(self, chat_id: int | str, reply: DocumentReply) -> None:
        """A file; a picture the bot made (a chart) goes as a photo, or as a file if Telegram
        refuses it as a photo (sizes past its limits)."""
        caption = reply.caption[: longest_prefix(reply.caption, CAPTION_LIMIT)] or None
        if reply.is_picture and reply.content is not None:
            try:
                await retrying(
                    partial(
                        self.application.bot.send_photo,
                        chat_id=chat_id,
                        photo=InputFile(reply.content, filename=reply.filename),
                        caption=caption,
                    ),
                    budget=self.budget,
                    retry_delay=_reply_retry_delay,
                    rate_limit=_retry_after,
                )
                return
            except BadRequest as exc:
                log.info("picture %s refused as a photo (%s): sent as a file", reply.filename, exc)
        if reply.content is not None:
            document: InputFile | str = InputFile(reply.content, filename=reply.filename)
        else:
            assert reply.file_id is not None
            document = reply.file_id
        await retrying(
            partial(
                self.application.bot.send_document,
                chat_id=chat_id,
                document=document,
                caption=caption,
            ),
            budget=self.budget,
            retry_delay=_reply_retry_delay,
            rate_limit=_retry_after,
        )

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        """Messenger: send one outbox message, classifying failures for retry or record.

        A retry resumes after the pieces an earlier attempt delivered.
        """
        sends: list[Callable[[], Awaitable[object]]] = [
            *self._piece_sends(chat_id, message.text, message.buttons),
            *(partial(self._send_picture, chat_id, picture) for picture in message.pictures),
        ]
        await deliver_pieces(self.budget, sends, first=message.pieces_sent, classify=_classify)

    async def _send_picture(self, chat_id: str, picture: Picture) -> object:
        """A picture of an outbox message as a photo, or as a file if Telegram refuses it as a
        photo (sizes past its limits)."""
        caption = picture.caption[: longest_prefix(picture.caption, CAPTION_LIMIT)] or None
        bot = self.application.bot
        try:
            return await bot.send_photo(
                chat_id=chat_id,
                photo=InputFile(picture.content, filename=picture.filename),
                caption=caption,
            )
        except BadRequest as exc:
            log.info("picture %s refused as a photo (%s): sent as a file", picture.filename, exc)
        return await bot.send_document(
            chat_id=chat_id,
            document=InputFile(picture.content, filename=picture.filename),
            caption=caption,
        )
