"""What an adversarial user sends through the real python-telegram-bot stack: every update gets
a Vietnamese answer, and nothing is logged at ERROR (no traceback)."""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from tests.conftest import active_seed_file
from tests.e2e.conftest import COORDINATOR_ID, running_service
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

STRANGER = 700_666
THAI_BINH = {"latitude": 20.45, "longitude": 106.34}
GARBAGE = string.ascii_letters + string.digits + string.punctuation


def garbage_payload() -> str:
    return "".join(secrets.choice(GARBAGE) for _ in range(64))  # the most Telegram allows


@pytest.mark.parametrize("sender", [STRANGER, COORDINATOR_ID])
async def test_whatever_arrives_gets_a_vietnamese_answer_and_no_error_is_logged(
    telegram_api: FakeTelegramBotApi,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    sender: int,
) -> None:
    settings = settings.model_copy(update={"plan_file": active_seed_file(tmp_path)})
    api = telegram_api
    sends: list[tuple[str, Callable[[], object]]] = [
        ("emoji", lambda: api.user_sends_text(sender, "😀" * 2000)),
        ("rtl", lambda: api.user_sends_text(sender, "\u202e\u200f1\u200d2\u200b3\u202c")),
        ("nul", lambda: api.user_sends_text(sender, "xin\x00 chào\x00")),
        ("other bot", lambda: api.user_sends_text(sender, "/tonghop@other_bot")),
        ("unknown", lambda: api.user_sends_text(sender, "/khonglenh " + "dài " * 900)),
        ("huge id", lambda: api.user_sends_text(sender, "/tep 2147483648")),
        ("sticker", lambda: api.user_sends_sticker(sender)),
        ("nameless file", lambda: api.user_sends_document(sender, "", b"%PDF-1.4", "")),
        ("location", lambda: api.user_sends(sender, {"location": THAI_BINH})),
        ("garbage button", lambda: api.user_presses_button(sender, 1, garbage_payload())),
        ("forged button", lambda: api.user_presses_button(sender, 1, "a.tep.999999999999")),
    ]  # fmt: skip
    # The coordinator's /tonghop (addressed to any bot in a private chat) comes with its two
    # charts: each step's messages are taken whole, so the next step reads its own answer.
    messages = {"other bot": 3 if sender == COORDINATOR_ID else 1}
    caplog.set_level(logging.INFO)
    async with running_service(settings):
        for what, send in sends:
            send()
            for _ in range(messages.get(what, 1)):
                answer = await api.next_bot_message(sender)
                assert answer.text and not answer.text.startswith("Xin lỗi, bot gặp lỗi"), (
                    what,
                    answer.text,
                )
        # A button's message may arrive before its callback is answered: wait for both.
        await api.wait_until(lambda: len(api.answered_callbacks) >= 2)
    answered = [callback.text for callback in api.answered_callbacks]
    assert answered == ["Nút không hợp lệ. Không có gì thay đổi."] * 2
    assert api.bot_messages(sender)[len(sends) + 2 * (sender == COORDINATOR_ID) :] == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
