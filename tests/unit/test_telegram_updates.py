"""Telegram updates handled several chats at once, each chat in order, and confirmed to Telegram
only once handled: the poller with python-telegram-bot's real Bot against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Update

from bot.channels.telegram_updates import UpdatePoller
from tests.fakes.telegram_bot_api import DEFAULT_TOKEN, FakeTelegramBotApi

ANH, BINH = 700_001, 700_002


class Handled:
    """What a handler saw, in order; the first text of Anh's chat waits until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.release = asyncio.Event()

    async def handle(self, update: Update) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        self.started.append(text)
        if text == "anh 1":
            await self.release.wait()
        self.finished.append(text)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=DEFAULT_TOKEN) as api:
        yield api
        assert api.validation_errors == [], api.validation_errors


@pytest.fixture
async def bot(server: FakeTelegramBotApi) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=server.base_url.removesuffix("/bot") + "/bot") as bot:
        yield bot


def poller(bot: Bot, handled: Handled) -> UpdatePoller:
    return UpdatePoller(bot, handled.handle, timeout=1, allowed_updates=[Update.MESSAGE])


async def test_a_slow_update_holds_up_its_own_chat_only_and_stays_unconfirmed(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    handled = Handled()
    polling = poller(bot, handled)
    polling.start()
    try:
        first = server.user_sends_text(ANH, "anh 1")
        server.user_sends_text(ANH, "anh 2")
        server.user_sends_text(BINH, "bình 1")
        await server.wait_until(lambda: "bình 1" in handled.finished)
        assert handled.started == ["anh 1", "bình 1"]  # Anh's second waits for the first
        assert polling.offset == first  # nothing past the unhandled update is confirmed
        assert server.pending_updates == 3  # Telegram would deliver all three again
        handled.release.set()
        await server.wait_until(lambda: len(handled.finished) == 3)
        assert handled.finished == ["bình 1", "anh 1", "anh 2"]
        await server.wait_until(lambda: server.pending_updates == 0)  # now confirmed
    finally:
        handled.release.set()
        await polling.stop()


async def test_an_update_not_handled_when_the_poller_stops_is_delivered_again(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    handled = Handled()
    polling = poller(bot, handled)
    polling.start()
    server.user_sends_text(ANH, "anh 1")
    server.user_sends_text(BINH, "bình 1")
    await server.wait_until(lambda: "bình 1" in handled.finished)
    await polling.stop(within=0.01)  # "anh 1" is still being handled: given up
    assert handled.finished == ["bình 1"]
    # The offset cannot pass "anh 1", so "bình 1" after it stays too: the service recognises it
    # by its id as handled (storage.inbox.claim_handling, tests/e2e/test_replayed_updates.py).
    assert server.pending_updates == 2

    again = Handled()
    again.release.set()
    restarted = poller(bot, again)
    restarted.start()
    try:
        await server.wait_until(lambda: sorted(again.finished) == ["anh 1", "bình 1"])
        await server.wait_until(lambda: server.pending_updates == 0)
    finally:
        await restarted.stop()


async def test_many_updates_of_many_chats_keep_each_chats_order(
    server: FakeTelegramBotApi, bot: Bot
) -> None:
    handled = Handled()
    polling = poller(bot, handled)
    polling.start()
    try:
        for number in range(30):
            for user in range(5):
                server.user_sends_text(800_000 + user, f"{user}:{number}")
        await server.wait_until(lambda: len(handled.finished) == 150, 30)
        for user in range(5):
            mine = [t for t in handled.finished if t.startswith(f"{user}:")]
            assert mine == [f"{user}:{number}" for number in range(30)]
        await server.wait_until(lambda: server.pending_updates == 0)
    finally:
        await polling.stop()
