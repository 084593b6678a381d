"""End-to-end harness: the whole service (real python-telegram-bot stack, real APScheduler,
real database) against a local fake Telegram Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from bot.app import Service, build_service, read_plans, utc_now
from bot.config import Settings
from scheduler.outbox import RetryPolicy
from scheduler.policy import ReminderOccurrence
from tests.conftest import active_seed_file
from tests.fakes.telegram_bot_api import BotMessage, FakeTelegramBotApi
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fakes.zalo_bot_api import FakeZaloBotApi, ZaloBotMessage

SEED_PLAN_CODE = "thai-binh-2021-40-kh-ubnd"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
COORDINATOR_ID = 500_001
ZALO_COORDINATOR = "c0ffee0000aa11bb22cc"
FAST_RETRIES = RetryPolicy(base=timedelta(milliseconds=200), max_attempts=4)

Clock = Callable[[], datetime]


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as server:
        yield server
        assert server.validation_errors == [], server.validation_errors
        assert server.state_errors == [], server.state_errors


@pytest.fixture
def settings(tmp_path: Path, telegram_api: FakeTelegramBotApi) -> Settings:
    return Settings.for_tests(
        database_url=f"sqlite:///{tmp_path / 'nhacviec.db'}",
        plan_files=(active_seed_file(tmp_path),),  # the seed plan as it ran: active
        timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram_api.base_url.removesuffix("/bot"),
        coordinator_telegram_ids=frozenset({COORDINATOR_ID}),
    )


@asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    occurrences: Mapping[str, Sequence[ReminderOccurrence]] | None = None,
) -> AsyncIterator[Service]:
    """Build and start the service the way the command line does; stop it afterwards.

    ``occurrences`` are the reminders of each plan, by plan code; a plan not named there has
    none (its real calendar would fire on APScheduler's real clock, whatever ``clock`` says).
    """
    planned: dict[str, Sequence[ReminderOccurrence]] = {
        spec.code: [] for spec, _ in read_plans(settings)
    }
    planned |= occurrences or {}
    service = await asyncio.to_thread(
        build_service,
        settings,
        clock=clock,
        occurrences=planned,
        retry_policy=FAST_RETRIES,
        hold_outside_office_hours=False,  # tests fire reminders at any hour (see unit tests)
        poll_timeout=1,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@dataclass
class TelegramUser:
    """A person in a private chat with the bot, driving the fake server."""

    server: FakeTelegramBotApi
    user_id: int
    first_name: str

    async def send(self, text: str) -> BotMessage:
        self.server.user_sends_text(self.user_id, text, first_name=self.first_name)
        return await self.next()

    async def next(self, within: float = 10.0) -> BotMessage:
        """The bot's next message to this user (each message is returned once)."""
        return await self.server.next_bot_message(self.user_id, timeout=within)

    async def press(self, message: BotMessage, label_part: str) -> BotMessage:
        data = button_data(message, label_part)
        self.server.user_presses_button(self.user_id, message.message_id, data)
        return await self.next()

    async def rest(self, quiet: float = 0.5) -> list[BotMessage]:
        """The bot's messages still coming to this user (a long text's parts, charts), until
        none comes for ``quiet`` seconds."""
        messages = []
        while True:
            try:
                messages.append(await self.next(within=quiet))
            except AssertionError:  # the fake server's "nothing sent"
                return messages

    async def send_document(self, name: str, content: bytes) -> BotMessage:
        self.server.user_sends_document(self.user_id, name, content)
        return await self.next()


def button_data(message: BotMessage, label_part: str) -> str:
    for row in message.buttons:
        for label, data in row:
            if label_part in label:
                return data
    raise AssertionError(f"no button {label_part!r} in {message.buttons} ({message.text!r})")


def user(server: FakeTelegramBotApi, user_id: int, first_name: str = "Hoa") -> TelegramUser:
    return TelegramUser(server, user_id, first_name)


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloBotApi]:
    async with FakeZaloBotApi() as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


@pytest.fixture
def both_channels(settings: Settings, zalo_api: FakeZaloBotApi) -> Settings:
    """Telegram and Zalo side by side, with a coordinator on each."""
    return settings.model_copy(
        update={
            "zalo_bot_token": SecretStr(ZALO_TOKEN),  # model_copy does not validate: the type
            "zalo_api_base_url": zalo_api.base_url,
            "coordinator_zalo_ids": frozenset({ZALO_COORDINATOR}),
        }
    )


@dataclass
class ZaloUser:
    """A person chatting with the bot on Zalo, driving the fake Zalo server."""

    server: FakeZaloBotApi
    user_id: str
    display_name: str = "Người dùng Zalo"

    async def send(self, text: str) -> ZaloBotMessage:
        self.server.user_sends_text(self.user_id, text, display_name=self.display_name)
        return await self.next()

    async def next(self, within: float = 10.0) -> ZaloBotMessage:
        return await self.server.next_bot_message(self.user_id, timeout=within)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until ``check`` holds (for effects with no message to wait on, e.g. a DB row)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {within} s: {check.__qualname__}")
        await asyncio.sleep(0.05)


async def fire_now(
    service: Service, occurrence: ReminderOccurrence, *, plan: str = SEED_PLAN_CODE
) -> int:
    """Add ``occurrence`` to ``plan``'s calendar and fire it at once, as its job would;
    returns how many messages it queued."""
    runtime = service.reminders.runtime
    runtime.plans[plan].occurrences[occurrence.key] = occurrence
    return await runtime.fire(plan, occurrence.key)
