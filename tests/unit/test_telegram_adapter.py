"""The pure parts of the Telegram adapter: splitting, keyboards, error classification."""

from __future__ import annotations

import unicodedata

import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.telegram import TEXT_LIMIT, delivery_error, keyboard
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
