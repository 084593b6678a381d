"""The fake Telegram Bot API server, driven by the real python-telegram-bot stack.

It must accept what Telegram accepts, refuse what Telegram refuses (with reasons precise enough
to fix the bot), and behave where the bot can tell: long polling, files, errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_bot_api import (
    SHARED_SPEC_PATH,
    SPEC_ENV_VAR,
    SPEC_PATH,
    ApiSpec,
    FakeTelegramBotApi,
    LengthLimit,
    resolve_spec_path,
)

TOKEN = "123456789:AAFakeTokenForTheUnitTestsOfTheFake"
USER = 700_123
VIETNAMESE_DATA = "đã hoàn thành sơ kết sáu tháng"  # 30 characters, 39 bytes
LONG_VIETNAMESE_DATA = "Đã hoàn thành đầy đủ nhiệm vụ sơ kết sáu tháng"  # 46 characters, 65 bytes


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as fake:
        fake.add_user(USER, first_name="Hoa")
        yield fake
        assert fake.validation_errors == [], fake.validation_errors


@pytest.fixture
async def bot(server: FakeTelegramBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as client:
        yield client


def take_errors(server: FakeTelegramBotApi) -> list[str]:
    """The validation errors so far, cleared (the fixture asserts none are left)."""
    errors = list(server.validation_errors)
    server.validation_errors.clear()
    return errors


def test_the_vietnamese_callback_data_fits_in_characters_but_not_in_bytes() -> None:
    assert len(VIETNAMESE_DATA.encode()) <= 64
    assert len(LONG_VIETNAMESE_DATA) <= 64 < len(LONG_VIETNAMESE_DATA.encode())


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(list(rows))


# --- the API description ------------------------------------------------------------------------


def test_the_description_is_found_beside_the_repository_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert repo.parent / "shared" / "telegram-bot-api" / "api.json" == SHARED_SPEC_PATH
    monkeypatch.delenv(SPEC_ENV_VAR, raising=False)
    assert resolve_spec_path() == (SHARED_SPEC_PATH if SHARED_SPEC_PATH.is_file() else SPEC_PATH)
    assert resolve_spec_path().is_file()

    tiny = tmp_path / "api.json"
    tiny.write_text(
        json.dumps(
            {
                "version": "Bot API 0.1",
                "methods": {"getMe": {"name": "getMe", "returns": ["User"]}},
                "types": {},
            }
        )
    )
    monkeypatch.setenv(SPEC_ENV_VAR, str(tiny))
    assert resolve_spec_path() == tiny
    assert ApiSpec.load().version == "Bot API 0.1"
    assert FakeTelegramBotApi(spec_path=resolve_spec_path(None)).spec.version == "Bot API 0.1"
    assert resolve_spec_path(SPEC_PATH) == SPEC_PATH  # an explicit path beats the variable


def test_rules_are_read_from_the_description() -> None:
    spec = ApiSpec.load()
    send = spec.method("SENDMESSAGE")
    assert send is not None and send.name == "sendMessage"
    assert send.fields["text"].length == LengthLimit(1, 4096, "characters", True)
    assert send.fields["chat_id"].chat_reference
    button = spec.type_spec("InlineKeyboardButton")
    assert button is not None and button.choice is not None
    assert button.fields["callback_data"].length == LengthLimit(1, 64, "bytes", False)
    assert button.choice.exactly and "callback_data" in button.choice.fields
    assert "text" not in button.choice.fields and "style" not in button.choice.fields
    scope = spec.type_spec("BotCommandScopeChat")
    assert scope is not None and scope.fields["type"].constant == "chat"
    edit = spec.method("editMessageText")
    assert edit is not None and edit.fields["chat_id"].required_unless == ("inline_message_id",)
    answer = spec.method("answerCallbackQuery")
    assert answer is not None and answer.fields["text"].length == LengthLimit(
        0, 200, "characters", False
    )


def test_values_are_checked_recursively_through_unions_and_abstract_types() -> None:
    spec = ApiSpec.load()
    markups = ["InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply"]
    good = {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    assert spec.check(good, markups, "reply_markup") == []
    assert spec.check({"keyboard": [["Có", {"text": "Không"}]]}, markups) == []
    assert spec.check({"remove_keyboard": True}, markups) == []

    no_action = spec.check({"inline_keyboard": [[{"text": "Có"}]]}, markups, "reply_markup")
    assert no_action == [
        "reply_markup.inline_keyboard[0][0]: InlineKeyboardButton must use exactly one action "
        "field (url, callback_data, web_app, login_url, switch_inline_query, "
        "switch_inline_query_current_chat, switch_inline_query_chosen_chat, copy_text, "
        "callback_game, pay); got none"
    ]
    unknown = spec.check({"inline_keyboard": [], "colour": "red"}, "InlineKeyboardMarkup", "m")
    assert unknown == ["m.colour: unknown field of InlineKeyboardMarkup"]
    assert spec.check({"type": "chat"}, "BotCommandScope", "scope") == [
        "scope.chat_id: missing required field of BotCommandScopeChat"
    ]
    assert spec.check({"type": "all_private_chats"}, "BotCommandScope") == []
    mismatch = spec.check({"type": "everyone"}, "BotCommandScope", "scope")
    assert len(mismatch) == 1 and "is none of BotCommandScopeDefault or" in mismatch[0]
    assert spec.check([[1, 2], [3]], "Array of Array of Integer") == []
    assert spec.check([[1, "2"]], "Array of Array of Integer", "rows") == [
        "rows[0][1]: expected Integer, got the string '2'"
    ]
    assert spec.check(True, "Integer", "n") == ["n: expected Integer, got true"]
    assert spec.check(3, "Float") == []


# --- requests the bot makes ------------------------------------------------------------------


async def test_get_me_describes_the_bot(server: FakeTelegramBotApi, bot: Bot) -> None:
    assert bot.id == 123456789
    assert bot.username == "nhacviec_test_bot" == server.bot_username
    assert bot.first_name == server.bot_first_name
    me = await bot.get_me()
    assert me.is_bot and me.can_join_groups is True and me.supports_inline_queries is False
    assert [c.method for c in server.calls] == ["getMe", "getMe"]


async def test_a_valid_message_with_an_inline_keyboard_is_accepted_and_observable(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    markup = keyboard(
        [
            InlineKeyboardButton("Hoàn thành ✅", callback_data="s.1.hoan_thanh"),
            InlineKeyboardButton("Đang làm", callback_data=VIETNAMESE_DATA),
        ],
        [InlineKeyboardButton("Xem văn bản", url="https://example.org/kh-40")],
    )
    sent = await bot.send_message(USER, "Chào chị Hoa 🎉\nBáo cáo tháng 6?", reply_markup=markup)
    assert sent.text == "Chào chị Hoa 🎉\nBáo cáo tháng 6?"
    assert sent.reply_markup == markup
    assert sent.chat.id == USER and sent.chat.first_name == "Hoa"
    assert sent.from_user is not None and sent.from_user.id == bot.id

    call = server.calls_to("sendMessage")[0]
    assert call.chat_id == USER and call.params["chat_id"] == USER
    assert call.params["reply_markup"]["inline_keyboard"][1][0]["url"] == (
        "https://example.org/kh-40"
    )
    second = await bot.send_message(USER, "Tin thứ hai")
    assert second.message_id == sent.message_id + 1

    first = await server.next_bot_message(USER)
    assert first.message_id == sent.message_id and first.method == "sendMessage"
    assert first.buttons == [
        [("Hoàn thành ✅", "s.1.hoan_thanh"), ("Đang làm", VIETNAMESE_DATA)],
        [("Xem văn bản", "https://example.org/kh-40")],
    ]
    assert (await server.next_bot_message(USER)).text == "Tin thứ hai"
    assert [m.message_id for m in server.bot_messages(USER)] == [1, 2]


async def test_text_is_measured_after_entities_parsing(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    html = "<b>" + "a" * 4090 + "</b> &amp; x"  # 4094 characters once parsed
    sent = await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert sent.text == "a" * 4090 + " & x"
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "<i>" + "a" * 4097 + "</i>", parse_mode=ParseMode.HTML)
    assert take_errors(server) == [
        "sendMessage.text: must be 1-4096 characters after entities parsing, got 4097 characters"
    ]


@pytest.mark.parametrize(
    ("send", "error", "telegram_says"),
    [
        pytest.param(
            lambda bot: bot.send_message(USER, "x" * 5000),
            "sendMessage.text: must be 1-4096 characters after entities parsing, "
            "got 5000 characters",
            "message is too long",
            id="text-of-5000-characters",
        ),
        pytest.param(
            lambda bot: bot.send_message(USER, "  \n "),
            "sendMessage.text: the text is empty (must be 1-4096 characters after entities "
            "parsing)",
            "message text is empty",
            id="blank-text",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER,
                "Chọn",
                reply_markup=keyboard([InlineKeyboardButton("A", callback_data="x" * 65)]),
            ),
            "sendMessage.reply_markup.inline_keyboard[0][0].callback_data: must be 1-64 bytes, "
            "got 65 bytes",
            "BUTTON_DATA_INVALID",
            id="callback-data-of-65-bytes",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER,
                "Chọn",
                reply_markup=keyboard(
                    [InlineKeyboardButton("A", callback_data="ok")],
                    [InlineKeyboardButton("B", callback_data=LONG_VIETNAMESE_DATA)],
                ),
            ),
            "sendMessage.reply_markup.inline_keyboard[1][0].callback_data: must be 1-64 bytes, "
            "got 65 bytes",
            "BUTTON_DATA_INVALID",
            id="vietnamese-callback-data-over-64-bytes",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER, "Chọn", reply_markup=keyboard([InlineKeyboardButton("Không làm gì")])
            ),
            "sendMessage.reply_markup.inline_keyboard[0][0]: InlineKeyboardButton must use "
            "exactly one action field",
            "InlineKeyboardButton must use exactly one action field",
            id="button-without-action",
        ),
        pytest.param(
            lambda bot: bot.send_message(
                USER,
                "Chọn",
                reply_markup=keyboard(
                    [InlineKeyboardButton("Hai", callback_data="a", url="https://example.org")]
                ),
            ),
            "sendMessage.reply_markup.inline_keyboard[0][0]: InlineKeyboardButton must use "
            "exactly one action field",
            "got url, callback_data",
            id="button-with-two-actions",
        ),
        pytest.param(
            lambda bot: bot.send_document(USER, b"%PDF", filename="a.pdf", caption="c" * 1025),
            "sendDocument.caption: must be 0-1024 characters after entities parsing, "
            "got 1025 characters",
            "message caption is too long",
            id="caption-of-1025-characters",
        ),
        pytest.param(
            lambda bot: bot.answer_callback_query("1", text="x" * 201),
            "answerCallbackQuery.text: must be 0-200 characters, got 201 characters",
            "0-200 characters",
            id="callback-answer-of-201-characters",
        ),
        pytest.param(
            lambda bot: bot.set_my_commands([BotCommand("BaoCao", "Gửi báo cáo")]),
            "setMyCommands.commands[0].command: may contain only lowercase English letters, "
            "digits and underscores, got 'BaoCao'",
            "lowercase",
            id="command-with-capitals",
        ),
    ],
)
async def test_what_telegram_refuses_is_refused_with_a_precise_reason(
    server: FakeTelegramBotApi, bot: Bot, send: Any, error: str, telegram_says: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        await send(bot)
    assert telegram_says.lower() in refused.value.message.lower()  # PTB capitalizes it
    errors = take_errors(server)
    assert len(errors) == 1 and errors[0].startswith(error), errors
    assert server.bot_messages(USER) == []


@pytest.mark.parametrize(
    ("api_kwargs", "error"),
    [
        pytest.param(
            {"chat_id": USER, "text": "x", "bogus": 1},
            "sendMessage: unknown parameter 'bogus'",
            id="unknown-parameter",
        ),
        pytest.param(
            {"chat_id": USER},
            "sendMessage: required parameter 'text' is missing",
            id="missing-text",
        ),
        pytest.param(
            {"chat_id": "hai bảy", "text": "x"},
            "sendMessage.chat_id: must be an integer chat id or an @username, got 'hai bảy'",
            id="chat-id-neither-integer-nor-username",
        ),
        pytest.param(
            {"chat_id": USER, "text": "x", "disable_notification": "maybe"},
            "sendMessage.disable_notification: expected Boolean, got 'maybe'",
            id="not-a-boolean",
        ),
        pytest.param(
            {"chat_id": USER, "text": "x", "reply_markup": {"inline_keyboard": "x"}},
            "sendMessage.reply_markup.inline_keyboard: expected Array of Array of "
            "InlineKeyboardButton, got the string 'x'",
            id="markup-closest-to-an-inline-keyboard",
        ),
        pytest.param(
            {"chat_id": USER, "text": "x", "reply_markup": {"colour": "red"}},
            "sendMessage.reply_markup: an object {colour} is none of InlineKeyboardMarkup or "
            "ReplyKeyboardMarkup or ReplyKeyboardRemove or ForceReply (as InlineKeyboardMarkup: "
            "colour: unknown field of InlineKeyboardMarkup; as ReplyKeyboardMarkup: colour: ",
            id="markup-of-no-known-shape",
        ),
        pytest.param(
            {"chat_id": USER, "text": "x", "reply_parameters": {"message_id": "1"}},
            "sendMessage.reply_parameters.message_id: expected Integer, got the string '1'",
            id="nested-string-for-integer",
        ),
    ],
)
async def test_raw_requests_are_checked_parameter_by_parameter(
    server: FakeTelegramBotApi, bot: Bot, api_kwargs: dict[str, Any], error: str
) -> None:
    # Lower case: Telegram's method names ignore case, and PTB does not warn for this spelling.
    with pytest.raises(BadRequest):
        await bot.do_api_request("sendmessage", api_kwargs=api_kwargs)
    errors = take_errors(server)
    assert len(errors) == 1 and errors[0].startswith(error), errors


async def test_prose_rules_required_if_and_method_names(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    with pytest.raises(BadRequest):
        await bot.do_api_request("editmessagetext", api_kwargs={"text": "x"})
    assert take_errors(server) == [
        "editMessageText: parameter 'chat_id' is required when 'inline_message_id' is not given",
        "editMessageText: parameter 'message_id' is required when 'inline_message_id' is not given",
        "editMessageText: parameter 'inline_message_id' is required when 'chat_id' and "
        "'message_id' is not given",
    ]
    result = await bot.do_api_request("SENDMESSAGE", api_kwargs={"chat_id": USER, "text": "hi"})
    assert isinstance(result, dict) and result["text"] == "hi"
    assert server.calls[-1].method == "sendMessage"
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
    assert take_errors(server) == ["unknown method 'sendTelepathy'"]


async def test_a_wrong_token_is_refused_like_telegram_does(server: FakeTelegramBotApi) -> None:
    stranger = Bot("987654321:AAWrongTokenxxxxxxxxxxxxxxxxxxxxxxx", base_url=server.base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    async with httpx.AsyncClient() as client:
        malformed = await client.post(f"{server.base_url}not-a-token/getMe")
        files = await client.get(f"{server.base_file_url}987654321:AAWrong/documents/x.pdf")
    assert malformed.status_code == 404 and files.status_code == 401
    assert malformed.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert server.calls == []


async def test_json_and_query_string_requests_are_understood_too(
    server: FakeTelegramBotApi,
) -> None:
    async with httpx.AsyncClient() as client:
        as_json = await client.post(
            f"{server.base_url}{TOKEN}/sendMessage",
            json={"chat_id": USER, "text": "JSON", "reply_markup": {"remove_keyboard": True}},
        )
        as_query = await client.get(
            f"{server.base_url}{TOKEN}/sendMessage", params={"chat_id": USER, "text": "query"}
        )
        stray_file = await client.post(
            f"{server.base_url}{TOKEN}/sendMessage",
            data={"chat_id": str(USER), "text": "x"},
            files={"extra": ("a.txt", b"a", "text/plain")},
        )
    assert as_json.json()["result"]["text"] == "JSON" and as_query.json()["ok"] is True
    assert stray_file.status_code == 400
    assert take_errors(server) == [
        "sendMessage: uploaded file part 'extra' is neither a parameter nor used as attach://extra"
    ]


# --- files ------------------------------------------------------------------------------------


async def test_uploaded_documents_are_kept_resent_by_file_id_and_downloadable(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    content = b"PK\x03\x04 bang tong hop"
    sent = await bot.send_document(
        USER, InputFile(content, filename="tổng hợp tháng 6.xlsx"), caption="Tệp tổng hợp"
    )
    assert sent.document is not None and sent.document.file_name == "tổng hợp tháng 6.xlsx"
    assert sent.document.file_size == len(content)
    call = server.calls_to("sendDocument")[0]
    assert call.files == {"document": content}
    assert call.file_names == {"document": "tổng hợp tháng 6.xlsx"}
    assert "document" not in call.params and call.params["caption"] == "Tệp tổng hợp"

    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    first, second = server.bot_messages(USER)
    assert first.text == "Tệp tổng hợp" and first.document_bytes == content
    assert second.document_name == "tổng hợp tháng 6.xlsx" and second.document_bytes == content

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None and file.file_path.startswith(server.base_file_url)
    assert bytes(await file.download_as_bytearray()) == content

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER, "no-such-file-id")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file-id")
    assert len(take_errors(server)) == 2


async def test_media_groups_and_photos_upload_through_attach_references(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    media = [
        InputMediaDocument(b"mot", filename="1.txt", caption="Một"),
        InputMediaDocument(b"hai", filename="2.txt"),
    ]
    messages = await bot.send_media_group(USER, media)
    assert [m.document.file_name for m in messages if m.document] == ["1.txt", "2.txt"]
    call = server.calls_to("sendMediaGroup")[0]
    parts = [item["media"] for item in call.params["media"]]
    assert all(part.startswith("attach://") for part in parts)
    assert sorted(call.files.values()) == [b"hai", b"mot"]
    assert [m.document_bytes for m in server.bot_messages(USER)] == [b"mot", b"hai"]

    photo = await bot.send_photo(USER, b"\xff\xd8\xff fake jpeg", caption="Ảnh hội nghị")
    assert photo.photo and photo.caption == "Ảnh hội nghị"
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"\xff\xd8\xff fake jpeg"


# --- other methods ----------------------------------------------------------------------------


async def test_commands_webhooks_and_methods_the_fake_only_knows_from_the_description(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    commands = [BotCommand("baocao", "Gửi báo cáo"), BotCommand("huy", "Hủy thao tác")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.send_chat_action(USER, "typing")

    location = await bot.send_location(USER, latitude=20.45, longitude=106.34)
    assert location.location is not None and location.location.latitude == 20.45
    chat = await bot.get_chat(USER)
    assert chat.id == USER and chat.type == "private" and chat.first_name == "Hoa"
    copied = await bot.copy_message(USER, USER, location.message_id)
    assert copied.message_id == location.message_id + 1
    assert await bot.delete_message(USER, location.message_id)
    assert await bot.set_chat_menu_button()  # answered from the description: True
    assert [m.method for m in server.bot_messages(USER)] == ["sendLocation", "copyMessage"]


async def test_edits_update_the_message_and_refuse_what_telegram_refuses(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    markup = keyboard([InlineKeyboardButton("Có", callback_data="yes")])
    sent = await bot.send_message(USER, "Xác nhận?", reply_markup=markup)
    edited = await bot.edit_message_text("Đã xác nhận", USER, sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Đã xác nhận"
    assert edited.reply_markup is None and edited.edit_date is not None
    restored = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=markup)
    assert isinstance(restored, Message) and restored.reply_markup == markup
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    assert server.validation_errors == [] and len(server.state_errors) == 1

    assert [(m.method, m.text) for m in server.bot_messages(USER)] == [
        ("sendMessage", "Xác nhận?"),
        ("editMessageText", "Đã xác nhận"),
    ]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("?", USER, 999)
    assert take_errors(server) == [
        "editMessageText: Bad Request: message to edit not found (chat 700123, message 999)"
    ]


# --- failures ---------------------------------------------------------------------------------


async def test_injected_failures_reach_ptb_as_telegram_errors(
    server: FakeTelegramBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this, PTB 22.8 warns inside RetryAfter's constructor (an error under pytest's
    # filterwarnings=error); the service opts in the same way.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    server.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(USER, "a")
    assert limited.value.retry_after == timedelta(seconds=3)

    server.fail_next("sendMessage", status=500, count=2)
    server.fail_next("sendDocument", status=502, description="Bad Gateway")
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(USER, "b")
    await bot.send_message(USER, "c")
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_document(USER, b"x", filename="x.txt")

    server.block_user(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "d")
    server.unblock_user(USER)
    await bot.send_message(USER, "e")

    assert [(c.method, c.status) for c in server.rejected_calls] == [
        ("sendMessage", 429),
        ("sendMessage", 500),
        ("sendMessage", 500),
        ("sendDocument", 502),
        ("sendMessage", 403),
    ]
    assert server.rejected_calls[0].params["text"] == "a"
    assert [m.text for m in server.bot_messages(USER)] == ["c", "e"]


async def test_a_bot_cannot_write_first(server: FakeTelegramBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER + 1, "Chào")
    server.add_user(USER + 1)
    await bot.send_message(USER + 1, "Chào")
    assert server.validation_errors == [] and len(server.state_errors) == 1


# --- updates ----------------------------------------------------------------------------------


async def test_get_updates_holds_the_request_until_an_update_or_the_timeout(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 2.5

    started = loop.time()
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    server.user_sends_text(USER, "xin chào")
    updates = await asyncio.wait_for(waiting, 5)
    assert loop.time() - started < 1
    assert [u.message.text for u in updates if u.message] == ["xin chào"]

    for text in ("một", "hai", "ba"):
        server.user_sends_text(USER, text)
    again = await bot.get_updates(timeout=0, limit=2)  # nothing confirmed yet
    assert [u.update_id for u in again] == [updates[0].update_id, updates[0].update_id + 1]
    rest = await bot.get_updates(offset=again[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["hai", "ba"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()
    assert server.pending_updates == 0


async def test_a_newer_poll_ends_an_older_one(server: FakeTelegramBotApi, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    async with httpx.AsyncClient() as client:  # a second bot instance (PTB polls on one conn.)
        newer = await client.post(f"{server.base_url}{TOKEN}/getUpdates", data={"timeout": "0"})
    assert newer.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await older
    assert len(server.state_errors) == 1


async def test_stopping_the_server_releases_a_held_poll_at_once() -> None:
    server = FakeTelegramBotApi(token=TOKEN)
    await server.start()
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        held = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.stop()
        assert await asyncio.wait_for(held, 5) == ()
        assert loop.time() - started < 2
    await server.stop()  # idempotent


async def test_simulated_users_produce_valid_updates_of_each_kind(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    text_id = server.user_sends_text(
        USER + 5, "/start@nhacviec_test_bot abc", first_name="Bảo", last_name="Lê", username="bao"
    )
    server.user_sends_document(USER + 5, "kế hoạch.pdf", b"%PDF", caption="Kế hoạch")
    server.user_sends_photo(USER + 5)
    server.user_sends_sticker(USER + 5)
    server.user_sends(USER + 5, {"location": {"latitude": 20.4, "longitude": 106.3}})
    query_id = server.user_presses_button(USER + 5, 77, "made-up")
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message is not None]
    assert [m.message_id for m in messages] == [text_id, 2, 3, 4, 5]
    command = messages[0]
    assert command.from_user is not None and command.from_user.full_name == "Bảo Lê"
    assert command.chat.username == "bao"
    assert command.parse_entities(["bot_command"]) == {
        command.entities[0]: "/start@nhacviec_test_bot"
    }
    assert messages[1].document is not None and messages[1].caption == "Kế hoạch"
    assert messages[2].photo and messages[3].sticker and messages[4].location
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "made-up"
    assert query.message is not None and query.message.message_id == 77
    assert await query.answer("Đã nhận")
    assert server.answered_callbacks[0].text == "Đã nhận"
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("123")
    assert take_errors(server) == [
        "answerCallbackQuery: Bad Request: query is too old and response timeout expired or "
        "query ID is invalid (no callback query '123' was sent)"
    ]


async def test_waiting_helpers_time_out_with_a_clear_report(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    await bot.send_message(USER, "Tin đầu tiên")
    assert (await server.next_bot_message(USER)).text == "Tin đầu tiên"
    with pytest.raises(AssertionError) as nothing_new:
        await server.next_bot_message(USER, timeout=0.1)
    report = str(nothing_new.value)
    assert "sent no new message to chat 700123 within 0.1s" in report
    assert "#1 sendMessage: 'Tin đầu tiên'" in report

    loop = asyncio.get_running_loop()
    loop.call_later(0.05, server.user_sends_text, USER, "muộn")
    await server.wait_until(lambda: server.pending_updates == 1, timeout=2)
    with pytest.raises(AssertionError, match=r"not met within 0\.1s"):
        await server.wait_until(lambda: False, timeout=0.1)


# --- the whole python-telegram-bot application -------------------------------------------------


async def test_a_polling_application_with_the_rate_limiter_sees_commands_buttons_and_files(
    server: FakeTelegramBotApi,
) -> None:
    seen: dict[str, Any] = {}

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen["args"] = context.args
        await update.effective_message.reply_text(
            "Chọn một mục",
            reply_markup=keyboard([InlineKeyboardButton("Sơ kết", callback_data="so-ket")]),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        seen["data"] = query.data
        await query.answer("Đã chọn")
        await query.edit_message_text(f"Bạn chọn: {query.data}")

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        file = await context.bot.get_file(message.document.file_id)
        content = await file.download_as_bytearray()
        await message.reply_document(message.document.file_id, caption=f"{len(content)} byte")

    async def other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Bot chưa hiểu nhãn dán")

    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .rate_limiter(AIORateLimiter())
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    application.add_handler(MessageHandler(filters.Sticker.ALL, other))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1, poll_interval=0)
        try:
            server.user_sends_text(USER, "/start abc", first_name="Hoa")
            menu = await server.next_bot_message(USER)
            assert seen["args"] == ["abc"]
            assert menu.text == "Chọn một mục" and menu.buttons == [[("Sơ kết", "so-ket")]]

            server.user_presses_button(USER, menu.message_id, "so-ket")
            edited = await server.next_bot_message(USER)
            assert (edited.method, edited.message_id) == ("editMessageText", menu.message_id)
            assert edited.text == "Bạn chọn: so-ket" and edited.buttons == []
            assert seen["data"] == "so-ket"
            assert [a.text for a in server.answered_callbacks] == ["Đã chọn"]

            server.user_sends_document(USER, "báo cáo.pdf", b"%PDF-1.4 so ket")
            reply = await server.next_bot_message(USER)
            assert reply.document_name == "báo cáo.pdf"
            assert reply.document_bytes == b"%PDF-1.4 so ket" and reply.text == "15 byte"

            server.user_sends_sticker(USER)
            assert (await server.next_bot_message(USER)).text == "Bot chưa hiểu nhãn dán"
        finally:
            await application.updater.stop()
            await application.stop()
    assert server.pending_updates == 0  # PTB confirmed everything when it stopped
    methods = {c.method for c in server.calls}
    assert {"getMe", "deleteWebhook", "getUpdates", "getFile", "answerCallbackQuery"} <= methods
