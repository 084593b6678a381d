"""The Bot API's HTTP client (aiohttp under python-telegram-bot) against the local fake Bot API
server, which validates every request: parameters, files and their names, downloads, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut

from bot.channels.bot_api_http import AiohttpRequest
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
USER = 700_001


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as fake:
        fake.add_user(USER)
        yield fake
        assert fake.validation_errors == [], fake.validation_errors


@pytest.fixture
async def bot(server: FakeTelegramBotApi) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        base_url=f"http://127.0.0.1:{server.port}/bot",
        base_file_url=f"http://127.0.0.1:{server.port}/file/bot",
        request=AiohttpRequest(connections=2),
        get_updates_request=AiohttpRequest(),
    )
    async with bot:
        yield bot


async def test_a_message_with_a_keyboard_and_vietnamese_text(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Xác nhận", callback_data="ok")]])
    sent = await bot.send_message(USER, "Đã ghi nhận báo cáo — cảm ơn!", reply_markup=keyboard)
    assert sent.text == "Đã ghi nhận báo cáo — cảm ơn!"
    call = server.calls[-1]
    assert call.method == "sendMessage" and call.params["text"] == sent.text
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Xác nhận"


async def test_a_document_keeps_its_vietnamese_name_and_its_caption(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    name = 'Tổng hợp "Kế hoạch 123" — Sở LĐTBXH.xlsx'
    content = bytes(range(256)) * 400
    await bot.send_document(USER, InputFile(content, filename=name), caption="Báo cáo tháng")
    call = server.calls[-1]
    assert call.method == "sendDocument" and call.params["caption"] == "Báo cáo tháng"
    assert call.params["chat_id"] == USER
    assert call.files["document"] == content
    assert call.file_names["document"] == name  # as it is: not percent-encoded


async def test_a_file_is_downloaded(server: FakeTelegramBotApi, bot: Bot) -> None:
    server.user_sends_document(USER, "ke-hoach.txt", "Kế hoạch số 5".encode(), "text/plain")
    updates = await bot.get_updates(timeout=0)
    document = updates[-1].message.document if updates[-1].message else None
    assert document is not None
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == "Kế hoạch số 5".encode()


async def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    bot = Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=AiohttpRequest())
    await bot.request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await bot.get_me()
        assert not isinstance(raised.value, TimedOut)
        assert "ClientConnectorError" in str(raised.value) and TOKEN not in str(raised.value)
    finally:
        await bot.request.shutdown()


async def test_an_answer_slower_than_the_read_timeout_is_timed_out() -> None:
    answer = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await answer.wait()  # after the client gave up
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/close", read_timeout=0.2)
    finally:
        answer.set()
        await request.shutdown()
        await runner.cleanup()


async def test_a_proxy_of_the_environment_is_used_unless_no_proxy_names_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTP_PROXY as httpx honoured it: a government network may reach Telegram only so."""
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return web.json_response(
            {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "b", "username": "b"}}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        # Nothing listens at telegram.invalid: only the proxy can answer.
        bot = Bot(TOKEN, base_url="http://telegram.invalid/bot", request=AiohttpRequest())
        async with bot:
            assert bot.username == "b"
        assert seen and seen[0].endswith("/getMe") and "telegram.invalid" in seen[0]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # straight to a port nothing listens at
        direct = Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=AiohttpRequest())
        with pytest.raises(NetworkError):
            await direct.initialize()
        assert len(seen) == 1
        await direct.request.shutdown()
    finally:
        await runner.cleanup()
