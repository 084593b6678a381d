"""The pure parts of the Telegram adapter: splitting, keyboards, error classification."""

from __future__ import annotations

import unicodedata

import httpx
import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.errors import (
    ApiServerError,
    ApiUnreachable,
    ChannelStartError,
    NotABotApi,
    TokenRefused,
)
from bot.channels.telegram import TEXT_LIMIT, delivery_error, keyboard, start_error
from bot.channels.text import split_text, utf16_length
from scheduler.messages import Button
from scheduler.messenger import PermanentDeliveryError, RecipientUnreachable, TransientDeliveryError


@pytest.mark.parametrize(
    "text",
    [
        "dòng\n" * 2000,
        "a" * 10_000,
        "🎉" * 5000,  # two UTF-16 units each
        ("Sở Y tế 👩‍👩‍👧 " * 900),
    ],
)
def test_split_text_keeps_every_piece_within_telegrams_limit(text: str) -> None:
    pieces = split_text(text, TEXT_LIMIT)
    assert all(0 < utf16_length(piece) <= 4096 for piece in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_split_text_prefers_line_breaks() -> None:
    text = "\n".join(f"dòng {n:04d}" for n in range(1000))
    pieces = split_text(text, TEXT_LIMIT)
    assert len(pieces) == 3 and all(piece.startswith("dòng") for piece in pieces)


@pytest.mark.parametrize(
    "unit",
    [
        unicodedata.normalize("NFD", "ệ"),  # e + two accents, as some Vietnamese keyboards send
        "👩\u200d👩\u200d👧",  # one family emoji made of three
        "👍🏽",  # a thumb and its skin tone
    ],
)
def test_a_hard_cut_never_splits_a_letter_from_its_accents_or_an_emoji_sequence(
    unit: str,
) -> None:
    text = unit * 3000  # no space or line break to cut at
    pieces = split_text(text, 100)
    assert "".join(pieces) == text
    assert all(piece.startswith(unit[0]) and piece.endswith(unit[-1]) for piece in pieces)
    assert all(utf16_length(piece) <= 100 for piece in pieces)


def test_an_empty_text_is_never_sent() -> None:
    assert split_text("   ", TEXT_LIMIT) == ["…"]


def test_keyboards() -> None:
    assert keyboard(()) is None
    markup = keyboard(((Button("Có", "s.1.a"), Button("Không", "s.1.b")),))
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [
        ["s.1.a", "s.1.b"]
    ]


def test_button_payloads_respect_the_64_byte_limit() -> None:
    with pytest.raises(ValueError, match="1-64"):
        Button("x", "a" * 65)
    with pytest.raises(ValueError, match="ASCII"):
        Button("x", "đ")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RetryAfter(7), TransientDeliveryError),
        (NetworkError("Bad Gateway"), TransientDeliveryError),
        (TimedOut(), TransientDeliveryError),
        (Forbidden("Forbidden: bot was blocked by the user"), RecipientUnreachable),
        (BadRequest("Chat not found"), RecipientUnreachable),
        (BadRequest("Message text is empty"), PermanentDeliveryError),
    ],
)
def test_delivery_errors_are_classified(error: TelegramError, kind: type[Exception]) -> None:
    classified = delivery_error(error)
    assert isinstance(classified, kind)
    if isinstance(error, RetryAfter):
        assert isinstance(classified, TransientDeliveryError) and classified.retry_after == 7


# --- start-up: what a failed getMe blames ---------------------------------------------------

API = "http://127.0.0.1:9"
REFUSED = b'{"ok":false,"error_code":401,"description":"Unauthorized"}'


def caused_by(exc: TelegramError, cause: Exception) -> TelegramError:
    exc.__cause__ = cause  # as PTB raises it: ``raise NetworkError(…) from err``
    return exc


@pytest.mark.parametrize(
    ("exc", "answer", "kind", "variable", "reason"),
    [
        (
            TimedOut(),
            None,
            ApiUnreachable,
            "TELEGRAM_API_BASE_URL",
            f"máy chủ Telegram {API} không trả lời kịp (Timed out)",
        ),
        (
            caused_by(
                NetworkError("httpx.ConnectError: All connection attempts failed"),
                httpx.ConnectError("All connection attempts failed"),
            ),
            None,
            ApiUnreachable,
            "TELEGRAM_API_BASE_URL",
            f"không kết nối được máy chủ Telegram {API} "
            "(ConnectError: All connection attempts failed)",
        ),
        (
            InvalidToken("The token `…` was rejected by the server."),
            (401, REFUSED),
            TokenRefused,
            "TELEGRAM_BOT_TOKEN",
            "Telegram từ chối mã bot (sai hoặc đã bị thu hồi); lấy mã mới từ @BotFather",
        ),
        (
            InvalidToken("The token `…` was rejected by the server."),
            (404, b"<html>Not here</html>"),
            NotABotApi,
            "TELEGRAM_API_BASE_URL",
            f"{API} không trả lời như một máy chủ Telegram Bot API (Not Found (404))",
        ),
        (
            NetworkError("Bad Gateway (502). Parsing the server response b'<html>' failed"),
            (502, b"<html>Bad gateway</html>"),
            ApiServerError,
            "TELEGRAM_API_BASE_URL",
            f"máy chủ Telegram {API} báo lỗi (Bad Gateway (502))",
        ),
        (
            NetworkError("Internal Server Error: restarting"),
            (500, b'{"ok":false,"error_code":500,"description":"Internal Server Error"}'),
            ApiServerError,
            "TELEGRAM_API_BASE_URL",
            f"máy chủ Telegram {API} báo lỗi (Internal Server Error: restarting)",
        ),
    ],
    ids=["timed-out", "refused", "token-refused", "web-page-404", "proxy-502", "server-500"],
)
def test_a_failed_get_me_names_the_setting_to_fix(
    exc: TelegramError,
    answer: tuple[int, bytes] | None,
    kind: type[ChannelStartError],
    variable: str,
    reason: str,
) -> None:
    problem = start_error(exc, answer, API)
    assert isinstance(problem, kind)
    assert (problem.variable, problem.reason) == (variable, reason)


@pytest.mark.parametrize(
    "exc", [BadRequest("Bad Request: method not found"), RetryAfter(3), TelegramError("?")]
)
def test_other_get_me_failures_blame_no_setting(exc: TelegramError) -> None:
    assert start_error(exc, (400, b'{"ok":false}'), API) is None
