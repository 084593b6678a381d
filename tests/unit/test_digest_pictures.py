"""The coordinator's digest carries the charts /tonghop shows: drawn when the digest is queued,
kept with its outbox row until it is delivered, sent after its text (Telegram: photos through
the real python-telegram-bot stack against the fake Bot API; Zalo: a note saying where to see
them), resumed after the pieces already delivered, forgotten once delivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlmodel import Session, select

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.dialog.events import DialogResult, IncomingEvent
from bot.dialog.overview import compose_digest
from scheduler.calendar import WorkingCalendar
from scheduler.outbox import OutboxSender
from scheduler.pacing import SendingBudget
from scheduler.policy import ReminderKind, ReminderOccurrence, reminder_calendar
from scheduler.reminders import CoordinatorAddress, fire_occurrence
from storage.database import Database
from storage.models import OutboxMessage, OutboxPicture, OutboxState, Plan
from storage.plan_file import PlanSpec
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN, FakeZaloBotApi
from tests.fixtures import seed_reports_2021 as seed
from tests.fixtures.seed_database import load_reports

TOKEN = "123456:digest-pictures"
COORDINATOR_TELEGRAM = CoordinatorAddress("telegram", "1001")
COORDINATOR_ZALO = CoordinatorAddress("zalo", "zalo-dieu-phoi")
PNG = b"\x89PNG\r\n\x1a\n"


async def _nobody(event: IncomingEvent) -> DialogResult:
    return DialogResult()


def weekly_digest(spec: PlanSpec) -> ReminderOccurrence:
    occurrences = reminder_calendar(spec, WorkingCalendar(spec.zone))
    return next(
        o
        for o in occurrences
        if o.kind == ReminderKind.DIGEST and o.subject is None and o.fire_at >= seed.AS_OF
    )


def queue_digest(database: Database, plan: Plan, spec: PlanSpec) -> ReminderOccurrence:
    database.run_sync(load_reports, plan)
    occurrence = weekly_digest(spec)
    queued = database.run_sync(
        fire_occurrence,
        plan_code=plan.code,
        occurrence=occurrence,
        coordinators=(COORDINATOR_TELEGRAM, COORDINATOR_ZALO),
        digest=compose_digest,
        now=occurrence.fire_at,
    )
    assert queued == 2
    return occurrence


def digests(session: Session) -> list[OutboxMessage]:
    rule = ReminderKind.DIGEST.value
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.rule == rule)))


def kept_pictures(session: Session) -> list[OutboxPicture]:
    return list(session.exec(select(OutboxPicture)))


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as server:
        server.add_user(int(COORDINATOR_TELEGRAM.chat_id), first_name="Điều phối")
        yield server
        assert server.validation_errors == [], server.validation_errors


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloBotApi]:
    async with FakeZaloBotApi() as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


@asynccontextmanager
async def channels(
    database: Database, telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi
) -> AsyncIterator[dict[str, TelegramChannel | ZaloChannel]]:
    telegram = TelegramChannel(
        token=TOKEN,
        api_base_url=telegram_api.base_url.removesuffix("/bot"),
        on_event=_nobody,
        poll_timeout=1,
        budget=SendingBudget("telegram", 1000),
    )
    zalo = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=database,
        on_event=_nobody,
        budget=SendingBudget("zalo", 1000),
    )
    await telegram.start()
    try:
        yield {"telegram": telegram, "zalo": zalo}
    finally:
        await telegram.stop()
        await zalo.api.aclose()


def test_the_digest_is_queued_with_the_charts_of_the_overview(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    queue_digest(database, seed_plan, seed_spec)
    rows = database.run_sync(digests)
    assert {(r.channel, r.pictures) for r in rows} == {("telegram", 3), ("zalo", 3)}
    pictures = database.run_sync(kept_pictures)
    assert len(pictures) == 6  # the rate per period, the heat map, the indicators; each twice
    assert all(p.content.startswith(PNG) and len(p.content) > 10_000 for p in pictures)
    assert len({p.caption for p in pictures}) == 3
    assert "BẢN TIN TỔNG HỢP" in rows[0].text  # the text stays whole


async def test_telegram_gets_the_text_then_the_charts_as_photos_and_zalo_a_note(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    telegram_api: FakeTelegramBotApi,
    zalo_api: FakeZaloBotApi,
) -> None:
    occurrence = queue_digest(database, seed_plan, seed_spec)
    clock = FakeClock(occurrence.fire_at)
    async with channels(database, telegram_api, zalo_api) as messengers:
        result = await OutboxSender(database, messengers, clock=clock).drain()

    assert result.sent == 2
    photos = [c for c in telegram_api.calls_to("sendPhoto") if c.params["chat_id"] == 1001]
    assert len(photos) == 3 and all(c.files["photo"].startswith(PNG) for c in photos)
    texts = [c for c in telegram_api.calls_to("sendMessage") if c.params["chat_id"] == 1001]
    assert "BẢN TIN TỔNG HỢP" in texts[0].params["text"]
    assert [c.method for c in telegram_api.calls if c.method in ("sendMessage", "sendPhoto")][
        -3:
    ] == ["sendPhoto"] * 3  # after the text
    on_zalo = [m.text for m in zalo_api.bot_messages(COORDINATOR_ZALO.chat_id)]
    assert "BẢN TIN TỔNG HỢP" in on_zalo[0]
    assert "3 biểu đồ" in on_zalo[-1] and "/tonghop" in on_zalo[-1]
    assert database.run_sync(kept_pictures) == []  # delivered: the pictures go
    assert {r.state for r in database.run_sync(digests)} == {OutboxState.SENT}


async def test_a_photo_that_failed_is_sent_again_without_the_text_before_it(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    telegram_api: FakeTelegramBotApi,
    zalo_api: FakeZaloBotApi,
) -> None:
    occurrence = queue_digest(database, seed_plan, seed_spec)
    clock = FakeClock(occurrence.fire_at)
    telegram_api.fail_next("sendPhoto", status=500)
    async with channels(database, telegram_api, zalo_api) as messengers:
        sender = OutboxSender(database, messengers, clock=clock)
        first = await sender.drain()
        [retried] = [r for r in database.run_sync(digests) if r.channel == "telegram"]
        assert (first.retried, retried.state, retried.pieces_sent) == (1, OutboxState.PENDING, 1)
        assert len(database.run_sync(kept_pictures)) == 3  # kept for the retry
        clock.set(retried.next_attempt_at)
        await sender.drain()

    texts = [c for c in telegram_api.calls_to("sendMessage") if c.params["chat_id"] == 1001]
    assert len(texts) == 1  # the text once
    assert len(telegram_api.calls_to("sendPhoto")) == 3
    assert database.run_sync(kept_pictures) == []
