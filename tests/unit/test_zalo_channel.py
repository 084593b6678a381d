"""The Zalo adapter against a local fake Zalo Bot API server (real httpx, real HTTP)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.channels.errors import (
    ApiServerError,
    ApiUnreachable,
    ChannelStartError,
    ListenFailed,
    NotABotApi,
    TokenRefused,
    WebhookRefused,
)
from bot.channels.zalo import (
    BUSY_PAUSE,
    SECRET_HEADER,
    ZaloApiError,
    ZaloBotApi,
    ZaloChannel,
    event_from_update,
    render,
    serve_webhook,
)
from bot.dialog.events import Button, DialogResult, DocumentReply, IncomingEvent, TextReply
from scheduler.messages import OutgoingMessage
from scheduler.messenger import (
    ChannelPaused,
    PermanentDeliveryError,
    RecipientUnreachable,
    TransientDeliveryError,
)
from scheduler.pacing import SendingBudget
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN, FakeZaloBotApi

USER = "e4ea2cd5189df1c3a88c"
SECRET = "bi-mat-cua-webhook-123"


class Recorder:
    """A stand-in for the dialog core: records events, answers with scripted replies."""

    def __init__(self) -> None:
        self.events: list[IncomingEvent] = []
        self.replies: list[TextReply | DocumentReply] = [TextReply("Đã nhận.")]

    async def __call__(self, event: IncomingEvent) -> DialogResult:
        self.events.append(event)
        return DialogResult(replies=list(self.replies))


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloBotApi]:
    async with FakeZaloBotApi() as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def inbox_database(sqlite_database: Database) -> Database:
    """The database that holds the channel's inbox (SQLite; the inbox tests run on both)."""
    return sqlite_database


@pytest.fixture
async def channel(
    zalo_api: FakeZaloBotApi, recorder: Recorder, inbox_database: Database
) -> AsyncIterator[ZaloChannel]:
    zalo = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=inbox_database,
        on_event=recorder,
        poll_timeout=1,
        error_backoff=(0.05, 0.2),
        webhook_secret=SECRET,
    )
    await zalo.start()
    yield zalo
    await zalo.stop()


def update(event_name: str, **message: object) -> dict[str, object]:
    return {
        "event_name": event_name,
        "message": {
            "message_id": "m1",
            "from": {"id": USER, "display_name": "Nguyễn Thị Hoa"},
            "chat": {"id": USER, "chat_type": "PRIVATE"},
            "date": 1766619597466,
            **message,
        },
    }


# --- updates → neutral events ---------------------------------------------------------------


def test_text_commands_images_and_stickers_become_neutral_events() -> None:
    text = event_from_update(update("message.text.received", text="/baocao"))
    assert text is not None and (text.channel, text.user_id, text.command) == (
        "zalo",
        USER,
        "baocao",
    )
    assert text.display_name == "Nguyễn Thị Hoa"
    code = event_from_update(update("message.text.received", text="AbCdEfGhIjKlMnOpQrStUv"))
    assert code is not None and code.text == "AbCdEfGhIjKlMnOpQrStUv"
    image = event_from_update(
        update("message.image.received", photo_url="https://f.zalo/a.jpg", caption="báo cáo")
    )
    assert image is not None and image.attachment is not None
    assert image.attachment.file_id == "https://f.zalo/a.jpg" and image.text == "báo cáo"
    sticker = event_from_update(update("message.sticker.received", sticker="abc"))
    assert sticker is not None and sticker.unsupported == "nhãn dán"
    other = event_from_update(update("message.unsupported.received"))
    assert other is not None and other.unsupported == "tin nhắn chưa hỗ trợ"


@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"event_name": "message.text.received"},
        {"message": "x"},
        update("message.text.received", text="hi", chat={"id": "g1", "chat_type": "GROUP"}),
        update("message.text.received", text="hi", **{"from": {"id": "b", "is_bot": True}}),
    ],
)
def test_what_the_bot_ignores(junk: dict[str, object]) -> None:
    assert event_from_update(junk) is None


# --- neutral replies → Zalo text ------------------------------------------------------------


def test_options_are_written_as_numbered_lines() -> None:
    reply = TextReply(
        "Tình hình thực hiện?",
        ((Button("Chưa triển khai", "s.1.a"), Button("Hoàn thành", "s.1.b")),),
    )
    assert render(reply) == (
        "Tình hình thực hiện?\n  1. Chưa triển khai\n  2. Hoàn thành\nTrả lời bằng số thứ tự."
    )


def test_free_values_are_hinted_not_numbered() -> None:
    reply = TextReply("Tiến độ?", ((Button("0%", "s.1.0"), Button("50%", "s.1.50")),), False)
    assert render(reply) == "Tiến độ?\n  (0% · 50%)"


def test_files_are_announced_because_zalo_cannot_send_them() -> None:
    text = render(DocumentReply(filename="tong-hop.xlsx", caption="Tệp tổng hợp"))
    assert "tong-hop.xlsx" in text and "Telegram" in text


# --- the channel against the fake server ------------------------------------------------------


async def test_messages_reach_the_core_and_replies_come_back(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    zalo_api.user_sends_text(USER, "/huongdan", display_name="Nguyễn Thị Hoa")
    reply = await zalo_api.next_bot_message(USER)
    assert reply.text == "Đã nhận."
    zalo_api.user_sends_image(USER, "https://f.zalo/anh.jpg")
    zalo_api.user_sends_sticker(USER)
    await zalo_api.next_bot_message(USER)
    await zalo_api.next_bot_message(USER)
    assert recorder.events[0].command == "huongdan"
    assert recorder.events[1].attachment is not None
    assert recorder.events[2].unsupported == "nhãn dán"
    assert channel.bot_name == "bot.NhacViec"


async def test_a_photo_sent_on_zalo_goes_back_as_a_photo(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    """The coordinator opens a report's photo on Zalo: sendPhoto with its URL and caption."""
    recorder.replies = [
        DocumentReply(
            filename="anh-zalo-m9.jpg", file_id="https://f.zalo/anh.jpg", caption="Sở Y tế"
        ),
        DocumentReply(filename="tong-hop.xlsx", content=b"PK", caption="Tổng hợp"),
    ]
    zalo_api.user_sends_text(USER, "/donvi SYT")
    photo = await zalo_api.next_bot_message(USER)
    announced = await zalo_api.next_bot_message(USER)
    assert (photo.method, photo.text) == ("sendPhoto", "Sở Y tế")
    assert announced.method == "sendMessage" and "tong-hop.xlsx" in announced.text


async def test_a_long_reply_is_split_into_valid_messages(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    recorder.replies = [TextReply("\n".join(f"Dòng {n:04d} của báo cáo" for n in range(200)))]
    zalo_api.user_sends_text(USER, "/tonghop")
    pieces = [await zalo_api.next_bot_message(USER) for _ in range(3)]
    assert all(0 < len(p.text) <= 2000 for p in pieces)
    assert pieces[-1].text.endswith("Dòng 0199 của báo cáo")


async def test_an_idle_poll_is_not_a_busy_loop(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel
) -> None:
    await asyncio.sleep(1.6)
    assert 1 <= zalo_api.get_updates_calls <= 3


async def test_a_message_delivered_twice_is_handled_once(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    zalo_api.user_sends_text(USER, "xin chào")
    await zalo_api.next_bot_message(USER)
    zalo_api.redeliver(zalo_api.delivered_updates[-1])
    zalo_api.user_sends_text(USER, "lần hai")
    await zalo_api.next_bot_message(USER)
    assert [e.text for e in recorder.events] == ["xin chào", "lần hai"]


async def test_polling_survives_server_errors(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    zalo_api.fail_next("getUpdates", status=500, count=2)
    zalo_api.fail_next("getUpdates", status=429)
    zalo_api.user_sends_text(USER, "vẫn nhận được")
    await zalo_api.next_bot_message(USER, timeout=10)
    assert [r.status for r in zalo_api.rejected_calls] == [500, 500, 429]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, TransientDeliveryError),
        (500, TransientDeliveryError),
        (502, TransientDeliveryError),
        (403, RecipientUnreachable),
        (400, PermanentDeliveryError),
    ],
)
async def test_delivery_failures_are_classified(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, status: int, kind: type[Exception]
) -> None:
    zalo_api.fail_next("sendMessage", status=status)
    with pytest.raises(kind) as failure:
        await channel.deliver(USER, OutgoingMessage("Nhắc việc"))
    if status == 429:  # Zalo gives no retry_after: the channel pauses for a second
        assert isinstance(failure.value, TransientDeliveryError)
        assert failure.value.retry_after == BUSY_PAUSE == 1.0


async def test_an_outbox_message_waits_for_its_slot_and_a_pause_stops_it_between_pieces(
    zalo_api: FakeZaloBotApi, recorder: Recorder, inbox_database: Database
) -> None:
    """Each piece of a long message takes a slot of the channel's budget; a pause (a 429 met by
    someone else's send) stops it after the pieces already sent, which a retry skips."""
    clock = FakeClock(datetime(2021, 6, 1, tzinfo=UTC))
    zalo = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=inbox_database,
        on_event=recorder,
        budget=SendingBudget("zalo", 5, clock=clock),
    )
    text = "\n".join(f"Dòng {n:04d} của thông báo" for n in range(200))  # three pieces
    try:
        delivery = asyncio.create_task(zalo.deliver(USER, OutgoingMessage(text)))
        await zalo_api.wait_until(lambda: len(zalo_api.bot_messages(USER)) == 1)
        zalo.budget.pause(30, reason="429 on a reply")
        with pytest.raises(ChannelPaused) as paused:
            await delivery
        assert paused.value.pieces_sent == 1
        clock.advance(timedelta(seconds=30))
        await zalo.deliver(USER, OutgoingMessage(text, pieces_sent=1))
    finally:
        await zalo.api.aclose()
    pieces = [m.text for m in zalo_api.bot_messages(USER)]
    assert len(pieces) == 3 and len(set(pieces)) == 3


async def test_a_user_who_blocked_the_bot_is_unreachable(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel
) -> None:
    zalo_api.block_user(USER)
    with pytest.raises(RecipientUnreachable):
        await channel.deliver(USER, OutgoingMessage("Nhắc việc", ((Button("Báo cáo", "a.bc.x"),),)))


async def test_reminder_buttons_say_what_to_type_instead(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel
) -> None:
    button = Button("📝 Báo cáo ngay", "a.bc.so-ket-6-thang", typed="/baocao")
    await channel.deliver(USER, OutgoingMessage("Nhắc việc", ((button,),)))
    sent = await zalo_api.next_bot_message(USER)
    assert sent.text == "Nhắc việc\n  • 📝 Báo cáo ngay: gõ /baocao"


# --- webhook -------------------------------------------------------------------------------


@asynccontextmanager
async def webhook_channel(
    zalo_api: FakeZaloBotApi, core: Recorder, database: Database, **options: Any
) -> AsyncIterator[ZaloChannel]:
    """A channel in webhook mode (no polling), stopped on the way out."""
    zalo = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=database,
        on_event=core,
        webhook_secret=SECRET,
        **options,
    )
    await zalo.start(poll=False)
    try:
        yield zalo
    finally:
        await zalo.stop()


async def test_the_webhook_checks_the_secret_in_constant_time(
    zalo_api: FakeZaloBotApi, recorder: Recorder, inbox_database: Database
) -> None:
    async with webhook_channel(zalo_api, recorder, inbox_database) as zalo:
        body = json.dumps(update("message.text.received", text="qua webhook")).encode()
        assert await zalo.handle_webhook({"X-Bot-Api-Secret-Token": "sai-roi-12345"}, body) == 403
        assert await zalo.handle_webhook({}, body) == 403
        assert await zalo.handle_webhook({"X-Bot-Api-Secret-Token": SECRET}, b"{not json") == 400
        assert await zalo.handle_webhook({"X-Bot-Api-Secret-Token": SECRET}, b"[]") == 400
        assert recorder.events == []
        assert await zalo.handle_webhook({"X-Bot-Api-Secret-Token": SECRET}, body) == 200
        assert await zalo.handle_webhook({"X-Bot-Api-Secret-Token": SECRET}, body) == 200
        assert (await zalo_api.next_bot_message(USER)).text == "Đã nhận."
        await zalo.stop()  # lets acknowledged updates finish
        assert [e.text for e in recorder.events] == ["qua webhook"]  # the repeat is dropped


class SlowCore(Recorder):
    """A dialog core that takes a while and notes whether two turns ever overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.overlapped = False

    async def __call__(self, event: IncomingEvent) -> DialogResult:
        self.running += 1
        self.overlapped |= self.running > 1
        await asyncio.sleep(0.05)
        self.running -= 1
        return await super().__call__(event)


async def test_webhook_updates_are_handled_one_at_a_time_in_arrival_order(
    zalo_api: FakeZaloBotApi, inbox_database: Database
) -> None:
    """Two quick answers from one person must not race through the same conversation."""
    core = SlowCore()
    async with webhook_channel(zalo_api, core, inbox_database) as zalo:
        for n, text in enumerate(["Trần Văn Bình", "Chuyên viên", "0987654321"]):
            body = json.dumps(update("message.text.received", text=text, message_id=f"w{n}"))
            assert await zalo.handle_webhook({SECRET_HEADER: SECRET}, body.encode()) == 200
        for _ in range(3):
            await zalo_api.next_bot_message(USER)
    assert [e.text for e in core.events] == ["Trần Văn Bình", "Chuyên viên", "0987654321"]
    assert not core.overlapped


async def test_a_reply_hit_by_a_rate_limit_is_retried_not_reported_as_a_failure(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel, recorder: Recorder
) -> None:
    """What the user did is saved before the reply goes out: never tell them to redo it."""
    zalo_api.fail_next("sendMessage", status=429)
    zalo_api.user_sends_text(USER, "1")
    reply = await zalo_api.next_bot_message(USER)
    assert reply.text == "Đã nhận."
    assert len(recorder.events) == 1
    assert [r.status for r in zalo_api.rejected_calls] == [429]
    assert zalo_api.bot_messages(USER) == [reply]  # no "bot gặp lỗi" after it


async def test_an_outbox_retry_resumes_after_the_pieces_already_delivered(
    zalo_api: FakeZaloBotApi, channel: ZaloChannel
) -> None:
    text = "\n".join(f"Dòng {n:04d} của thông báo" for n in range(200))  # three pieces
    zalo_api.fail_next("sendMessage", status=502, after=1)
    with pytest.raises(TransientDeliveryError) as failure:
        await channel.deliver(USER, OutgoingMessage(text))
    assert failure.value.pieces_sent == 1
    await channel.deliver(USER, OutgoingMessage(text, pieces_sent=failure.value.pieces_sent))
    pieces = [m.text for m in zalo_api.bot_messages(USER)]
    assert len(pieces) == 3 and len(set(pieces)) == 3  # none twice
    assert pieces[0].startswith("Dòng 0000") and pieces[-1].endswith("Dòng 0199 của thông báo")


async def test_an_error_page_that_is_not_even_utf8_is_an_api_error() -> None:
    """A proxy in front of Zalo may answer 502 with an HTML page in another encoding."""

    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<h1>502 Bad Gateway \xe9</h1>")

    api = ZaloBotApi(DEFAULT_TOKEN, "http://zalo.invalid", transport=httpx.MockTransport(proxy))
    try:
        with pytest.raises(ZaloApiError) as failure:
            await api.get_updates(1)
        assert failure.value.status == 502
    finally:
        await api.aclose()


# --- the token stays secret ----------------------------------------------------------------


async def test_the_token_never_appears_in_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = ZaloBotApi(DEFAULT_TOKEN, "http://127.0.0.1:9", request_timeout=2)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(ZaloApiError) as caught:
            await api.send_message(USER, "xin chào")
    finally:
        await api.aclose()
    assert DEFAULT_TOKEN not in str(caught.value)
    assert caught.value.code is None
    assert DEFAULT_TOKEN.split(":")[1] not in caplog.text


async def test_a_token_echoed_back_by_the_server_is_redacted(zalo_api: FakeZaloBotApi) -> None:
    """Servers sometimes quote the request URL in their error description."""
    zalo_api.fail_next(
        "sendMessage", status=400, description=f"bad url /bot{DEFAULT_TOKEN}/sendMessage"
    )
    api = ZaloBotApi(DEFAULT_TOKEN, zalo_api.base_url)
    try:
        await api.send_chat_action(USER)  # a call that succeeds: nothing to leak
        with pytest.raises(ZaloApiError) as caught:
            await api.send_message(USER, "xin chào")
    finally:
        await api.aclose()
    assert DEFAULT_TOKEN not in str(caught.value) and "/bot***/" in str(caught.value)
    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (408, {"ok": False, "error_code": 408, "description": "Request timeout"}),
        (200, {"ok": False, "error_code": 408, "description": "Request timeout"}),
        (200, {"ok": True, "result": {}}),
    ],
)
async def test_every_way_zalo_says_no_update_is_an_idle_poll(
    status: int, body: dict[str, object]
) -> None:
    """Public clients see 408 as the HTTP status, as error_code under HTTP 200, or no result."""

    def zalo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    api = ZaloBotApi(DEFAULT_TOKEN, "http://zalo.invalid", transport=httpx.MockTransport(zalo))
    try:
        assert await api.get_updates(1) is None
    finally:
        await api.aclose()


async def test_a_webhook_body_wrapped_in_ok_and_result_is_unwrapped(
    zalo_api: FakeZaloBotApi, recorder: Recorder, inbox_database: Database
) -> None:
    async with webhook_channel(zalo_api, recorder, inbox_database) as zalo:
        wrapped = {"ok": True, "result": update("message.text.received", text="/huongdan")}
        body = json.dumps(wrapped).encode()
        assert await zalo.handle_webhook({SECRET_HEADER: SECRET}, body) == 200
        await zalo_api.next_bot_message(USER)
    assert [e.command for e in recorder.events] == ["huongdan"]


async def test_stopping_finishes_a_webhook_update_already_acknowledged(
    zalo_api: FakeZaloBotApi, inbox_database: Database
) -> None:
    """Zalo got 200 and will not send it again: the update must be handled before stopping."""
    core = SlowCore()
    async with webhook_channel(zalo_api, core, inbox_database) as zalo:
        body = json.dumps(update("message.text.received", text="Báo cáo gửi lúc tắt máy"))
        assert await zalo.handle_webhook({SECRET_HEADER: SECRET}, body.encode()) == 200
        await asyncio.sleep(0.01)  # the worker has taken it off the queue
        await zalo.stop(grace=5)
    assert [e.text for e in core.events] == ["Báo cáo gửi lúc tắt máy"]
    assert [m.text for m in zalo_api.bot_messages(USER)] == ["Đã nhận."]


# --- start-up: the adapter says which setting is to blame ----------------------------------

API = "http://zalo.invalid"


def timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


def answering(status: int, **body: object) -> Callable[[httpx.Request], httpx.Response]:
    def zalo(request: httpx.Request) -> httpx.Response:
        if "json" in body:
            return httpx.Response(status, json=body["json"])
        return httpx.Response(status, text=str(body.get("text", "")))

    return zalo


@pytest.mark.parametrize(
    ("zalo", "kind", "variable", "reason"),
    [
        (
            timed_out,
            ApiUnreachable,
            "ZALO_API_BASE_URL",
            f"máy chủ Zalo {API} không trả lời kịp (ReadTimeout)",
        ),
        (
            refused,
            ApiUnreachable,
            "ZALO_API_BASE_URL",
            f"không kết nối được máy chủ Zalo {API} (ConnectError: All connection attempts failed)",
        ),
        (
            answering(502, text="<html>Bad gateway</html>"),
            ApiServerError,
            "ZALO_API_BASE_URL",
            f"máy chủ Zalo {API} báo lỗi (HTTP 502, not a JSON answer)",
        ),
        (
            answering(404, text="<html>Not here</html>"),
            NotABotApi,
            "ZALO_API_BASE_URL",
            f"{API} không trả lời như một máy chủ Zalo Bot API (HTTP 404)",
        ),
        (
            answering(200, json={"ok": False, "error_code": 401, "description": "Unauthorized"}),
            TokenRefused,
            "ZALO_BOT_TOKEN",
            "Zalo từ chối mã bot (sai hoặc đã bị thu hồi); "
            "Zalo trả lời: HTTP 200, 401: Unauthorized",
        ),
    ],
    ids=["timed-out", "refused", "proxy-502", "web-page-404", "token-refused"],
)
async def test_a_failed_start_names_the_setting_to_fix(
    zalo: Callable[[httpx.Request], httpx.Response],
    kind: type[ChannelStartError],
    variable: str,
    reason: str,
    recorder: Recorder,
    inbox_database: Database,
) -> None:
    channel = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=API,
        database=inbox_database,
        on_event=recorder,
        transport=httpx.MockTransport(zalo),
    )
    try:
        with pytest.raises(kind) as caught:
            await channel.start()
    finally:
        await channel.stop()
    assert (caught.value.variable, caught.value.reason) == (variable, reason)
    assert DEFAULT_TOKEN not in str(caught.value) and caught.value.__cause__ is None


async def test_a_refused_webhook_address_is_blamed_on_the_webhook_url(
    zalo_api: FakeZaloBotApi, recorder: Recorder, inbox_database: Database
) -> None:
    zalo_api.fail_next("setWebhook", status=400, description="url invalid")
    channel = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=inbox_database,
        on_event=recorder,
        webhook_secret=SECRET,
    )
    await channel.start(poll=False)
    try:
        with pytest.raises(WebhookRefused) as caught:
            await channel.register_webhook("https://bot.example.org/zalo")
    finally:
        await channel.stop()
    assert caught.value.variable == "ZALO_WEBHOOK_URL"
    assert caught.value.reason == "Zalo từ chối địa chỉ webhook (HTTP 400, 400: url invalid)"


async def test_a_webhook_port_already_taken_is_blamed_on_the_listen_address(
    channel: ZaloChannel,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenFailed) as caught:
            await serve_webhook(channel, host="127.0.0.1", port=port, path="/zalo")
    assert caught.value.variable == "ZALO_WEBHOOK_LISTEN"
    assert caught.value.reason.startswith(f"không mở được 127.0.0.1:{port} để nhận webhook (")
    assert "address already in use" in caught.value.reason
