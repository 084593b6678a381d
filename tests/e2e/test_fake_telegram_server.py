"""The fake Bot API server itself: it must refuse what Telegram refuses, so that the other
end-to-end tests mean something."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from tests.conftest import SEED_DOCUMENT, SHARED_SEED_DOCUMENT
from tests.fakes.telegram_bot_api import SHARED_SPEC_PATH, SPEC_PATH, FakeTelegramBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
USER = 4242


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as fake:
        fake.user_sends_text(USER, "xin chào")
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as client:
        yield client


async def test_valid_requests_are_accepted(server: FakeTelegramBotApi, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Hoàn thành", callback_data="s.1.x")]])
    message = await bot.send_message(USER, "Chào bạn 🎉", reply_markup=keyboard)
    assert message.text == "Chào bạn 🎉"
    assert server.bot_messages(USER)[0].buttons == [[("Hoàn thành", "s.1.x")]]
    await bot.send_document(USER, document=b"%PDF", filename="a.pdf", caption="Tệp")
    assert server.bot_messages(USER)[1].document_bytes == b"%PDF"
    assert server.validation_errors == []


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda bot: bot.send_message(USER, "x" * 4097), "1-4096 characters"),
        (lambda bot: bot.send_message(USER, "   "), "text is empty"),
        (
            lambda bot: bot.send_message(
                USER,
                "chọn",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Đ", callback_data="đ" * 33)]]
                ),
            ),
            "1-64 bytes",
        ),
        (
            lambda bot: bot.send_message(
                USER, "chọn", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Đ")]])
            ),
            "exactly one action",
        ),
        (
            lambda bot: bot.answer_callback_query("1", text="x" * 201),
            "0-200 characters",
        ),
    ],
)
async def test_requests_telegram_would_refuse_are_refused(
    server: FakeTelegramBotApi, bot: Bot, call: object, reason: str
) -> None:
    with pytest.raises(BadRequest):
        await call(bot)  # type: ignore[operator]
    assert any(reason in error for error in server.validation_errors), server.validation_errors
    server.validation_errors.clear()


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"chat_id": str(USER), "txt": "a"}, "unknown parameter 'txt'"),
        ({"chat_id": str(USER)}, "'text' is missing"),
        ({"chat_id": "tám", "text": "a"}, "sendMessage.chat_id"),
        ({"chat_id": str(USER), "text": "a", "reply_markup": "{"}, "reply_markup"),
    ],
)
async def test_malformed_raw_requests_are_refused(
    server: FakeTelegramBotApi, form: dict[str, str], reason: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server.base_url}{TOKEN}/sendMessage", data=form)
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert any(reason in error for error in server.validation_errors), server.validation_errors
    server.validation_errors.clear()


async def test_a_wrong_token_or_method_is_refused(server: FakeTelegramBotApi) -> None:
    async with httpx.AsyncClient() as client:
        wrong_token = await client.post(f"{server.base_url}1:nope/getMe")
        unknown = await client.post(f"{server.base_url}{TOKEN}/sendTelegram")
    assert wrong_token.status_code == 401
    assert unknown.status_code == 404
    assert server.validation_errors == ["unknown method 'sendTelegram'"]
    server.validation_errors.clear()


async def test_a_bot_cannot_write_first_and_blocked_users_answer_403(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
        await bot.send_message(999, "ai đó")
    server.block_user(USER)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "chào")


async def test_injected_failures(server: FakeTelegramBotApi, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "a")
    server.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "a")
    await bot.send_message(USER, "a")
    assert [c.status for c in server.rejected_calls] == [429, 500]


async def test_get_updates_holds_the_request_until_timeout(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["xin chào"]
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=1) == ()
    assert loop.time() - started >= 0.9


async def test_files_users_send_can_be_downloaded(server: FakeTelegramBotApi, bot: Bot) -> None:
    server.user_sends_document(USER, "báo cáo.pdf", b"%PDF-1.4 noi dung")
    updates = await bot.get_updates(timeout=0)
    document = updates[-1].message.document if updates[-1].message else None
    assert document is not None and document.file_name == "báo cáo.pdf"
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 noi dung"


NO_SHARED = "no ../shared beside this checkout"


@pytest.mark.skipif(not SHARED_SPEC_PATH.is_file(), reason=NO_SHARED)
def test_the_copied_api_description_is_the_shared_one() -> None:
    assert SPEC_PATH.read_bytes() == SHARED_SPEC_PATH.read_bytes()


@pytest.mark.skipif(not SHARED_SEED_DOCUMENT.is_file(), reason=NO_SHARED)
def test_the_copied_seed_document_is_the_shared_one() -> None:
    assert SEED_DOCUMENT.read_bytes() == SHARED_SEED_DOCUMENT.read_bytes()
