"""The Telegram adapter sending the outbox and replies: the real python-telegram-bot stack, the
real OutboxSender and database, against the local fake Bot API server (which validates every
request and counts every message it accepts)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.channels.telegram import TelegramChannel
from bot.dialog.events import DialogResult, IncomingEvent, TextReply
from scheduler.outbox import OutboxSender, Pipeline, queued_message
from scheduler.pacing import SendingBudget, utc_now
from storage import outbox
from storage.database import Database
from storage.models import OutboxMessage, OutboxState
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
FIRST_USER = 700_001
START = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


class Answering:
    """The dialog core's stand-in: answers every message at once."""

    def __init__(self) -> None:
        self.events: list[IncomingEvent] = []

    async def __call__(self, event: IncomingEvent) -> DialogResult:
        self.events.append(event)
        return DialogResult(replies=[TextReply("Đã nhận tin nhắn của anh/chị.")])


@asynccontextmanager
async def running_channel(
    server: FakeTelegramBotApi, budget: SendingBudget
) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(
        token=TOKEN,
        api_base_url=server.base_url.removesuffix("/bot"),
        on_event=Answering(),
        poll_timeout=1,
        budget=budget,
    )
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


def fan_out(
    database: Database, server: FakeTelegramBotApi, count: int, *, now: datetime | None = None
) -> list[int]:
    """A /thongbao to ``count`` people who have all started the bot; returns their chat ids."""
    users = list(range(FIRST_USER, FIRST_USER + count))
    for user_id in users:
        server.add_user(user_id)
    messages = [
        queued_message(
            key=f"thong-bao/1/telegram:{user_id}",
            channel="telegram",
            chat_id=str(user_id),
            rule="thong-bao",
            text="Thông báo: họp giao ban chiều thứ Sáu.",
            now=now or utc_now(),
        )
        for user_id in users
    ]
    assert database.run_sync(outbox.enqueue_outbox, messages) == count
    return users


def bulk_sends(server: FakeTelegramBotApi, users: Iterable[int]) -> Counter[int | str | None]:
    wanted = set(users)
    return Counter(c.chat_id for c in server.calls_to("sendMessage") if c.chat_id in wanted)


def states(database: Database) -> Counter[OutboxState]:
    rows = database.run_sync(lambda s: s.exec(select(OutboxMessage)).all())
    return Counter(r.state for r in rows)


async def test_a_fan_out_stopped_midway_and_restarted_reaches_everyone_exactly_once(
    database: Database, telegram_api: FakeTelegramBotApi
) -> None:
    users = fan_out(database, telegram_api, 300)
    async with running_channel(telegram_api, SendingBudget("telegram", 400)) as channel:
        first = OutboxSender(database, {"telegram": channel}, clock=utc_now)
        first.start()
        await telegram_api.wait_until(lambda: len(bulk_sends(telegram_api, users)) >= 100)
        await first.stop()
        sent_before_restart = sum(bulk_sends(telegram_api, users).values())

        second = OutboxSender(database, {"telegram": channel}, clock=utc_now)
        second.start()
        await telegram_api.wait_until(lambda: len(bulk_sends(telegram_api, users)) == 300, 15)
        await second.stop()

    assert 100 <= sent_before_restart < 300
    assert bulk_sends(telegram_api, users) == {user_id: 1 for user_id in users}  # none twice
    assert states(database) == {OutboxState.SENT: 300}


async def test_a_stop_that_cannot_wait_loses_nothing_and_repeats_at_most_the_sends_under_way(
    database: Database, telegram_api: FakeTelegramBotApi
) -> None:
    users = fan_out(database, telegram_api, 200)
    pipeline = Pipeline(in_flight=8)
    async with running_channel(telegram_api, SendingBudget("telegram", 400)) as channel:
        first = OutboxSender(database, {"telegram": channel}, clock=utc_now, pipeline=pipeline)
        first.start()
        await telegram_api.wait_until(lambda: len(bulk_sends(telegram_api, users)) >= 50)
        await first.stop(grace=0)  # deliveries under way are cancelled, unrecorded

        second = OutboxSender(database, {"telegram": channel}, clock=utc_now, pipeline=pipeline)
        second.start()
        await telegram_api.wait_until(lambda: len(bulk_sends(telegram_api, users)) == 200, 15)
        await second.stop()

    counts = bulk_sends(telegram_api, users)
    assert set(counts) == set(users)  # nobody missed
    assert sum(counts.values()) - len(users) <= pipeline.in_flight
    assert states(database) == {OutboxState.SENT: 200}


async def test_a_429_pauses_telegram_for_retry_after_with_one_warning(
    database: Database, telegram_api: FakeTelegramBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram's flood control answers 429 with retry_after: nothing more goes to any chat
    until it has passed, PTB's own limiter logs no ERROR traceback, one WARNING says it."""
    clock = FakeClock(START)
    users = fan_out(database, telegram_api, 4, now=START)
    telegram_api.fail_next("sendMessage", status=429, retry_after=5)
    budget = SendingBudget("telegram", 5, clock=clock)  # slots 0.1 s apart or more
    async with running_channel(telegram_api, budget) as channel:
        sender = OutboxSender(database, {"telegram": channel}, clock=clock)
        with caplog.at_level(logging.INFO):
            paused = await sender.drain()
        assert [c.status for c in telegram_api.rejected_calls] == [429]
        assert bulk_sends(telegram_api, users) == {}
        clock.advance(timedelta(seconds=4))
        assert (await sender.drain()).attempted == 0
        clock.advance(timedelta(seconds=1))
        resumed = await sender.drain()

    assert (paused.retried, paused.sent, resumed.sent) == (1, 0, 4)
    assert bulk_sends(telegram_api, users) == {user_id: 1 for user_id in users}
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage()[:38] for r in loud] == ["telegram: rate limited (429 on outbox "]
    assert loud[0].exc_info is None


async def test_a_reply_during_a_long_fan_out_goes_out_in_the_next_slot(
    database: Database, telegram_api: FakeTelegramBotApi
) -> None:
    users = fan_out(database, telegram_api, 200)  # ten seconds' worth at 20 per second
    writer = 800_001
    budget = SendingBudget("telegram", 20)
    async with running_channel(telegram_api, budget) as channel:
        sender = OutboxSender(database, {"telegram": channel}, clock=utc_now)
        sender.start()
        try:
            await telegram_api.wait_until(lambda: len(bulk_sends(telegram_api, users)) >= 5)
            loop = asyncio.get_running_loop()
            asked_at = loop.time()
            telegram_api.user_sends_text(writer, "Cho hỏi hạn nộp báo cáo?")
            reply = await telegram_api.next_bot_message(writer, timeout=5)
            answered_at = loop.time()
        finally:
            await sender.stop()

    assert reply.text == "Đã nhận tin nhắn của anh/chị."
    [answer] = [c for c in telegram_api.calls_to("sendMessage") if c.chat_id == writer]
    ahead = [
        c
        for c in telegram_api.calls_to("sendMessage")
        if c.chat_id in set(users) and asked_at <= c.at < answer.at
    ]
    # While PTB fetches the message and the core answers, the slots go on (one, perhaps two);
    # then the reply takes the next. Queued behind the eight waiting deliveries, it would see
    # eight or more go first.
    assert len(ahead) <= 3, f"{len(ahead)} bulk messages went out before the reply"
    assert answered_at - asked_at < 0.5
    assert len(bulk_sends(telegram_api, users)) < 200  # the fan-out was still going


def test_telegram_is_limited_once_by_the_channel_budget() -> None:
    """No second limiter under the budget: PTB's AIORateLimiter would hold every call to its
    own 30 per second, queue replies with the fan-out and, on a 429, log an ERROR traceback
    (max_retries=0) or retry by itself (more) — which the 429 test above would see."""
    channel = TelegramChannel(
        token=TOKEN,
        api_base_url="http://127.0.0.1:9",
        on_event=Answering(),
        budget=SendingBudget("telegram", 25),
    )
    assert channel.application.bot.rate_limiter is None
    assert channel.budget.max_rate == 25
