"""The delivery outbox: OutboxSender against a fake messenger, on SQLite and PostgreSQL.

The messenger is the only fake (it stands for Telegram or Zalo); the sender, the queries and the
database are the real ones.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from scheduler.calendar import WorkingCalendar
from scheduler.messages import Button, ButtonRows, OutgoingMessage
from scheduler.messenger import (
    BotUnauthorized,
    ChannelPaused,
    DeliveryError,
    PermanentDeliveryError,
    RecipientUnreachable,
    TransientDeliveryError,
)
from scheduler.outbox import (
    DEFAULT_RETRY_POLICY,
    OutboxSender,
    Pipeline,
    RetryPolicy,
    outbox_message,
)
from scheduler.pacing import Clock, Priority, SendingBudget, utc_now
from scheduler.policy import SCHEDULED_RULES, office_hours_hold
from storage import outbox, people, plans
from storage.database import Database
from storage.models import (
    ChannelAccount,
    FocalPoint,
    MembershipState,
    OutboxMessage,
    OutboxState,
    Plan,
)
from tests.fakes.clock import FakeClock

START = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)  # 08:00 in Thái Bình


class FakeMessenger:
    """A channel that records what it was asked to send and fails when told to; like the real
    adapters, each delivery takes a bulk slot of the channel's budget first."""

    def __init__(
        self, channel: str = "telegram", *, max_rate: float = 10_000, clock: Clock = utc_now
    ) -> None:
        self.channel = channel
        self.budget = SendingBudget(channel, max_rate, clock=clock)
        self.sent: list[tuple[str, OutgoingMessage]] = []
        self.attempts: list[str] = []
        self._failures: dict[str, deque[Exception]] = defaultdict(deque)
        self._changed = asyncio.Condition()

    def fail_next(self, chat_id: str, error: Exception, times: int = 1) -> None:
        """The next ``times`` sends to ``chat_id`` raise ``error``."""
        self._failures[chat_id].extend([error] * times)

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        await self.budget.acquire(Priority.BULK)
        self.attempts.append(chat_id)
        async with self._changed:
            self._changed.notify_all()
        failures = self._failures[chat_id]
        if failures:
            raise failures.popleft()
        self.sent.append((chat_id, message))

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait (at most ``within`` seconds) until ``predicate()`` holds after a delivery."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    def texts_to(self, chat_id: str) -> list[str]:
        return [message.text for chat, message in self.sent if chat == chat_id]


def rate_limited(retry_after: float) -> TransientDeliveryError:
    return TransientDeliveryError("429 Too Many Requests", retry_after=retry_after)


def server_error() -> TransientDeliveryError:
    return TransientDeliveryError("502 Bad Gateway")


def blocked() -> RecipientUnreachable:
    return RecipientUnreachable("403 Forbidden: bot was blocked by the user")


def enqueue(
    database: Database,
    key: str,
    *,
    chat_id: str = "1001",
    channel: str = "telegram",
    text: str | None = None,
    now: datetime = START,
    buttons: ButtonRows = (),
    focal_point_id: int | None = None,
) -> int:
    message = outbox_message(
        key=key,
        channel=channel,
        chat_id=chat_id,
        rule="nhac_truoc_han",
        text=text if text is not None else f"Nhắc việc {key}",
        now=now,
        buttons=buttons,
        focal_point_id=focal_point_id,
    )
    return database.run_sync(outbox.enqueue_outbox, [message])


def row(database: Database, key: str) -> OutboxMessage:
    found = database.run_sync(outbox.outbox_by_key, key)
    assert found is not None, key
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def messenger(clock: FakeClock) -> FakeMessenger:
    return FakeMessenger(clock=clock)


@pytest.fixture
def sender(database: Database, messenger: FakeMessenger, clock: FakeClock) -> OutboxSender:
    return OutboxSender(database, {"telegram": messenger}, clock=clock)


# --- sending once ------------------------------------------------------------------------------


async def test_a_queued_message_is_sent_once_and_recorded_as_sent_with_its_time(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "r1", text="Sắp đến hạn báo cáo sơ kết 6 tháng")
    clock.advance(timedelta(seconds=3))

    result = await sender.drain()

    assert (result.sent, result.attempted) == (1, 1)
    assert messenger.texts_to("1001") == ["Sắp đến hạn báo cáo sơ kết 6 tháng"]
    sent = row(database, "r1")
    assert sent.state == OutboxState.SENT
    assert sent.sent_at == START + timedelta(seconds=3)
    assert sent.attempts == 1
    assert sent.last_error is None


async def test_running_the_sender_again_never_resends_a_sent_message(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "r1")
    await sender.drain()

    clock.advance(timedelta(days=2))
    again = await sender.drain()
    fresh_sender = OutboxSender(database, {"telegram": messenger}, clock=clock)
    after_restart = await fresh_sender.drain()

    assert again.attempted == 0
    assert after_restart.attempted == 0
    assert len(messenger.sent) == 1
    assert database.run_sync(outbox.next_outbox_attempt, channels=["telegram"]) is None


async def test_a_message_with_buttons_reaches_the_messenger_with_the_same_buttons(
    database: Database, sender: OutboxSender, messenger: FakeMessenger
) -> None:
    buttons: ButtonRows = (
        (Button("Báo cáo ngay", "report:6m"), Button("Nhắc lại sau", "snooze:6m")),
        (Button("Xem kế hoạch", "plan", typed="/kehoach"),),
    )
    enqueue(database, "r1", buttons=buttons)

    await sender.drain()

    [(_, message)] = messenger.sent
    assert message.buttons == buttons


async def test_all_due_messages_are_sent_in_one_drain_even_beyond_one_batch(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    sender = OutboxSender(
        database, {"telegram": messenger}, clock=clock, pipeline=Pipeline(fetch=2)
    )
    for n in range(5):
        enqueue(database, f"r{n}", chat_id=str(2000 + n), now=START + timedelta(seconds=n))
    clock.advance(timedelta(minutes=1))

    result = await sender.drain()

    assert result.sent == 5
    assert [chat for chat, _ in messenger.sent] == ["2000", "2001", "2002", "2003", "2004"]


async def test_a_message_queued_for_later_is_not_sent_before_its_time(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "later", now=START + timedelta(hours=1))

    early = await sender.drain()
    clock.advance(timedelta(hours=1))
    on_time = await sender.drain()

    assert (early.attempted, on_time.sent) == (0, 1)


# --- transient failures ------------------------------------------------------------------------


async def test_a_rate_limited_message_stays_queued_until_retry_after_and_is_then_sent(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "r1")
    messenger.fail_next("1001", rate_limited(retry_after=30))

    first = await sender.drain()

    assert first.retried == 1
    queued = row(database, "r1")
    assert queued.state == OutboxState.PENDING
    assert queued.attempts == 1
    assert queued.next_attempt_at == START + timedelta(seconds=30)
    assert queued.last_error is not None and "429" in queued.last_error
    assert database.run_sync(outbox.next_outbox_attempt, channels=["telegram"]) == (
        START + timedelta(seconds=30)
    )

    clock.advance(timedelta(seconds=29))
    too_early = await sender.drain()
    assert too_early.attempted == 0

    clock.advance(timedelta(seconds=1))
    second = await sender.drain()
    assert second.sent == 1
    sent = row(database, "r1")
    assert sent.state == OutboxState.SENT
    assert sent.attempts == 2
    assert sent.sent_at == START + timedelta(seconds=30)
    assert sent.last_error is None
    assert messenger.attempts == ["1001", "1001"]
    assert len(messenger.sent) == 1


async def test_a_server_error_is_retried_with_growing_backoff_and_attempts_are_counted(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "r1")
    messenger.fail_next("1001", server_error(), times=3)
    policy = sender.retry_policy

    waits: list[timedelta] = []
    for attempt in range(1, 4):
        failed_at = clock()
        result = await sender.drain()
        assert result.retried == 1
        queued = row(database, "r1")
        assert queued.state == OutboxState.PENDING
        assert queued.attempts == attempt
        waits.append(queued.next_attempt_at - failed_at)
        assert (await sender.drain()).attempted == 0  # nothing before the back-off ends
        clock.set(queued.next_attempt_at)

    assert waits == [policy.backoff(1), policy.backoff(2), policy.backoff(3)]
    assert waits[0] < waits[1] < waits[2]
    assert (await sender.drain()).sent == 1
    assert row(database, "r1").attempts == 4
    assert len(messenger.attempts) == 4


async def test_an_unexpected_messenger_exception_is_retried_like_a_transient_failure(
    database: Database,
    sender: OutboxSender,
    messenger: FakeMessenger,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    enqueue(database, "r1")
    messenger.fail_next("1001", RuntimeError("connection reset"))

    result = await sender.drain()

    assert result.retried == 1
    queued = row(database, "r1")
    assert queued.state == OutboxState.PENDING
    assert queued.next_attempt_at == START + sender.retry_policy.backoff(1)
    assert queued.last_error is not None and "connection reset" in queued.last_error
    assert "unexpected error delivering outbox row" in caplog.text
    clock.set(queued.next_attempt_at)
    assert (await sender.drain()).sent == 1


async def test_a_message_that_fails_max_attempts_times_is_failed_and_never_tried_again(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    policy = RetryPolicy(base=timedelta(seconds=1), max_attempts=3)
    sender = OutboxSender(database, {"telegram": messenger}, clock=clock, retry_policy=policy)
    enqueue(database, "r1")
    messenger.fail_next("1001", server_error(), times=10)

    results = []
    for _ in range(policy.max_attempts):
        results.append(await sender.drain())
        clock.advance(policy.cap)

    assert [r.retried for r in results] == [1, 1, 0]
    assert results[-1].failed == 1
    failed = row(database, "r1")
    assert failed.state == OutboxState.FAILED
    assert failed.attempts == policy.max_attempts
    assert failed.sent_at is None

    clock.advance(timedelta(days=30))
    assert (await sender.drain()).attempted == 0
    assert len(messenger.attempts) == policy.max_attempts
    assert database.run_sync(outbox.next_outbox_attempt, channels=["telegram"]) is None


async def test_a_rate_limit_on_the_last_allowed_attempt_also_fails_the_message(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_attempts=2)
    sender = OutboxSender(database, {"telegram": messenger}, clock=clock, retry_policy=policy)
    enqueue(database, "r1")
    messenger.fail_next("1001", rate_limited(retry_after=5), times=2)

    await sender.drain()
    clock.advance(timedelta(seconds=5))
    await sender.drain()

    assert row(database, "r1").state == OutboxState.FAILED


async def test_a_permanent_rejection_fails_the_message_at_once(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "r1")
    messenger.fail_next("1001", PermanentDeliveryError("400 Bad Request: message is too long"))

    result = await sender.drain()

    assert result.failed == 1
    failed = row(database, "r1")
    assert failed.state == OutboxState.FAILED
    assert failed.attempts == 1
    assert failed.last_error is not None and "message is too long" in failed.last_error
    clock.advance(timedelta(days=1))
    assert (await sender.drain()).attempted == 0


async def test_a_failure_for_one_chat_does_not_hold_up_the_others(
    database: Database, sender: OutboxSender, messenger: FakeMessenger
) -> None:
    enqueue(database, "a", chat_id="1001")
    enqueue(database, "b", chat_id="1002")
    enqueue(database, "c", chat_id="1003")
    messenger.fail_next("1001", server_error())
    messenger.fail_next("1002", PermanentDeliveryError("400 Bad Request"))

    result = await sender.drain()

    assert (result.retried, result.failed, result.sent) == (1, 1, 1)
    assert messenger.texts_to("1003") == ["Nhắc việc c"]


# --- blocked recipients ------------------------------------------------------------------------


def add_focal_point_with_account(
    session: Session, *, plan: Plan, channel: str, user_id: str, chat_id: str
) -> int:
    assert plan.id is not None
    unit = plans.units(session, plan_id=plan.id, reporting_only=True)[0]
    focal_point = FocalPoint(
        organisation_id=unit.organisation_id,
        full_name=f"Cán bộ {user_id}",
        position="Chuyên viên",
        phone="0912345678",
        registered_at=START,
    )
    session.add(focal_point)
    session.flush()
    assert focal_point.id is not None
    people.decide_membership(
        session,
        focal_point_id=focal_point.id,
        plan_id=plan.id,
        state=MembershipState.JOINED,
        now=START,
    )
    session.add(
        ChannelAccount(
            focal_point_id=focal_point.id,
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            created_at=START,
        )
    )
    return focal_point.id


def telegram_focal_point(database: Database, plan: Plan, user_id: str) -> int:
    """A focal point reachable on Telegram in a private chat (chat id = user id)."""
    return database.run_sync(
        add_focal_point_with_account,
        plan=plan,
        channel="telegram",
        user_id=user_id,
        chat_id=user_id,
    )


def account(database: Database, *, channel: str, chat_id: str) -> ChannelAccount:
    def find(session: Session) -> ChannelAccount:
        return session.exec(
            select(ChannelAccount).where(
                ChannelAccount.channel == channel, ChannelAccount.chat_id == chat_id
            )
        ).one()

    return database.run_sync(find)


async def test_a_blocked_recipient_is_recorded_and_the_message_is_not_retried(
    database: Database,
    seed_plan: Plan,
    sender: OutboxSender,
    messenger: FakeMessenger,
    clock: FakeClock,
) -> None:
    blocker = telegram_focal_point(database, seed_plan, "1001")
    other = telegram_focal_point(database, seed_plan, "1002")
    enqueue(database, "to-blocker", chat_id="1001", focal_point_id=blocker)
    enqueue(database, "to-other", chat_id="1002", focal_point_id=other)
    messenger.fail_next("1001", blocked())
    clock.advance(timedelta(seconds=7))

    result = await sender.drain()

    assert (result.blocked, result.sent) == (1, 1)
    stopped = row(database, "to-blocker")
    assert stopped.state == OutboxState.BLOCKED
    assert stopped.attempts == 1
    assert stopped.last_error is not None and "blocked" in stopped.last_error
    assert account(database, channel="telegram", chat_id="1001").blocked_at == clock()
    assert account(database, channel="telegram", chat_id="1002").blocked_at is None
    assert row(database, "to-other").state == OutboxState.SENT

    clock.advance(timedelta(days=1))
    assert (await sender.drain()).attempted == 0
    assert messenger.attempts.count("1001") == 1


async def test_a_blocked_account_is_left_out_of_later_messages_and_other_chats_still_get_theirs(
    database: Database,
    seed_plan: Plan,
    sender: OutboxSender,
    messenger: FakeMessenger,
    clock: FakeClock,
) -> None:
    blocker = telegram_focal_point(database, seed_plan, "1001")
    other = telegram_focal_point(database, seed_plan, "1002")
    enqueue(database, "first", chat_id="1001", focal_point_id=blocker)
    messenger.fail_next("1001", blocked())
    await sender.drain()

    # Reminders are addressed through accounts_of, which skips blocked accounts: later rules
    # queue nothing for the blocked chat.
    reachable = database.run_sync(people.accounts_of, focal_point_ids=[blocker, other])
    assert [a.chat_id for a in reachable] == ["1002"]
    everyone = database.run_sync(
        people.accounts_of, focal_point_ids=[blocker, other], reachable_only=False
    )
    assert [a.chat_id for a in everyone] == ["1001", "1002"]

    enqueue(database, "second", chat_id="1002", focal_point_id=other)
    clock.advance(timedelta(minutes=1))
    assert (await sender.drain()).sent == 1
    assert messenger.texts_to("1002") == ["Nhắc việc second"]
    assert messenger.texts_to("1001") == []


async def test_a_row_already_queued_for_a_chat_that_blocked_the_bot_is_still_attempted_once(
    database: Database, sender: OutboxSender, messenger: FakeMessenger
) -> None:
    # The sender does not consult ChannelAccount.blocked_at: a row queued before the block was
    # seen is still offered to the platform, which refuses it again, and it is recorded BLOCKED.
    enqueue(database, "first", chat_id="1001")
    enqueue(database, "second", chat_id="1001", now=START - timedelta(seconds=1))
    messenger.fail_next("1001", blocked(), times=2)

    result = await sender.drain()

    assert result.blocked == 2
    assert row(database, "first").state == OutboxState.BLOCKED
    assert row(database, "second").state == OutboxState.BLOCKED
    assert messenger.sent == []


# --- idempotence -------------------------------------------------------------------------------


async def test_two_messages_with_the_same_key_are_queued_and_sent_once(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    first = outbox_message(
        key="plan/6m-3wd/telegram:1001",
        channel="telegram",
        chat_id="1001",
        rule="nhac_truoc_han",
        text="Lần một",
        now=START,
    )
    duplicate = outbox_message(
        key="plan/6m-3wd/telegram:1001",
        channel="telegram",
        chat_id="1001",
        rule="nhac_truoc_han",
        text="Lần hai",
        now=START,
    )

    assert database.run_sync(outbox.enqueue_outbox, [first, duplicate]) == 1
    assert database.run_sync(outbox.enqueue_outbox, [duplicate]) == 0
    await sender.drain()
    clock.advance(timedelta(hours=1))
    assert database.run_sync(outbox.enqueue_outbox, [duplicate]) == 0  # also once sent
    await sender.drain()

    assert messenger.texts_to("1001") == ["Lần một"]


def test_a_large_batch_is_queued_in_bulk_and_counts_exactly_the_new_rows(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,234 messages in chunks of 500, one INSERT each: keys repeated within the batch and
    keys already queued are skipped, the first message of a repeated key is the one kept."""
    monkeypatch.setattr(outbox, "ENQUEUE_CHUNK", 500)

    def message(n: int, text: str) -> OutboxMessage:
        return outbox_message(
            key=f"thong-bao/42/telegram:{n}",
            channel="telegram",
            chat_id=str(n),
            rule="thong-bao",
            text=text,
            now=START,
        )

    already = [message(n, "cũ") for n in range(0, 1234, 10)]  # 124 queued before
    assert database.run_sync(outbox.enqueue_outbox, already) == 124
    batch = [message(n, "mới") for n in range(1234)]
    batch[5:5] = [message(7, "lặp lại"), message(1233, "lặp lại")]  # repeated within the batch
    inserts: list[str] = []

    def count_inserts(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", count_inserts)
    try:
        queued = database.run_sync(outbox.enqueue_outbox, batch)
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count_inserts)

    assert queued == 1234 - 124
    assert len(inserts) == 3  # 500 + 500 + 234 distinct keys
    assert row(database, "thong-bao/42/telegram:10").text == "cũ"  # queued before: kept
    assert row(database, "thong-bao/42/telegram:7").text == "lặp lại"  # the first of the batch
    assert row(database, "thong-bao/42/telegram:1233").text == "lặp lại"
    fresh = row(database, "thong-bao/42/telegram:8")
    assert (fresh.text, fresh.state, fresh.attempts, fresh.pieces_sent) == (
        "mới",
        OutboxState.PENDING,
        0,
        0,
    )
    assert (fresh.chat_id, fresh.rule, fresh.buttons, fresh.focal_point_id) == (
        "8",
        "thong-bao",
        None,
        None,
    )
    assert fresh.next_attempt_at == fresh.created_at == START
    assert database.run_sync(outbox.enqueue_outbox, batch) == 0


# --- channels without a messenger --------------------------------------------------------------


async def test_messages_for_a_channel_without_a_messenger_are_left_queued_untouched(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "zalo", channel="zalo", chat_id="e4ea2cd5189df1c3a88c")
    enqueue(database, "telegram", channel="telegram", chat_id="1001")
    clock.advance(timedelta(hours=1))

    result = await sender.drain()

    assert result.sent == 1
    waiting = row(database, "zalo")
    assert waiting.state == OutboxState.PENDING
    assert waiting.attempts == 0
    assert waiting.last_error is None
    assert sender.channels == ["telegram"]
    # ...and the idle wait ignores it, so the sender does not wake up for it in a loop
    assert database.run_sync(outbox.next_outbox_attempt, channels=sender.channels) is None

    zalo = FakeMessenger("zalo")
    both = OutboxSender(database, {"telegram": messenger, "zalo": zalo}, clock=clock)
    assert (await both.drain()).sent == 1
    assert zalo.texts_to("e4ea2cd5189df1c3a88c") == ["Nhắc việc zalo"]


# --- pacing and the running loop --------------------------------------------------------------


async def test_sends_on_one_channel_are_paced_to_its_max_rate(
    database: Database, clock: FakeClock
) -> None:
    slow = FakeMessenger(max_rate=20, clock=clock)
    sender = OutboxSender(database, {"telegram": slow}, clock=clock, pipeline=Pipeline(in_flight=8))
    for n in range(5):
        enqueue(database, f"r{n}", chat_id=str(3000 + n))
    loop = asyncio.get_running_loop()

    started = loop.time()
    await sender.drain()
    elapsed = loop.time() - started

    assert len(slow.sent) == 5
    assert elapsed >= 4 / 20 - slow.budget.tolerance - 0.005


async def wait_until_state(
    database: Database, key: str, state: OutboxState, timeout: float = 5.0
) -> None:
    """Poll the outbox row: the sender records a send just after the messenger returns."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in itertools.count():
        current = await database.run(outbox.outbox_by_key, key)
        if current is not None and current.state == state:
            return
        if loop.time() > deadline:
            pytest.fail(f"outbox row {key} did not become {state} within {timeout} s")
        await asyncio.sleep(0.01)


async def test_the_running_sender_sends_what_is_queued_when_woken(
    database: Database, messenger: FakeMessenger
) -> None:
    sender = OutboxSender(database, {"telegram": messenger}, clock=lambda: datetime.now(UTC))
    sender.start()
    try:
        await asyncio.sleep(0.05)  # it has drained an empty outbox and is waiting
        enqueue(database, "r1", now=datetime.now(UTC))
        sender.wake()
        await wait_until_state(database, "r1", OutboxState.SENT)
    finally:
        await sender.stop()

    assert messenger.texts_to("1001") == ["Nhắc việc r1"]


async def test_the_running_sender_retries_by_itself_when_the_backoff_ends(
    database: Database, messenger: FakeMessenger
) -> None:
    policy = RetryPolicy(base=timedelta(milliseconds=100), max_attempts=5)
    sender = OutboxSender(
        database,
        {"telegram": messenger},
        clock=lambda: datetime.now(UTC),
        retry_policy=policy,
    )
    enqueue(database, "r1", now=datetime.now(UTC))
    messenger.fail_next("1001", server_error(), times=2)
    sender.start()
    try:
        await wait_until_state(database, "r1", OutboxState.SENT)
    finally:
        await sender.stop()

    sent = row(database, "r1")
    assert sent.state == OutboxState.SENT
    assert sent.attempts == 3


class SlowMessenger(FakeMessenger):
    """Each send takes a while, as over a slow network."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started = asyncio.Event()

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        self.started.set()
        await asyncio.sleep(self.seconds)
        await super().deliver(chat_id, message)


async def test_stopping_finishes_the_send_in_progress_and_records_it(database: Database) -> None:
    """A reminder sent during shutdown is recorded as sent, so a restart does not resend it."""
    messenger = SlowMessenger(0.3)
    enqueue(database, "r1", now=datetime.now(UTC))
    enqueue(database, "r2", now=datetime.now(UTC))
    sender = OutboxSender(database, {"telegram": messenger}, clock=lambda: datetime.now(UTC))
    sender.start()
    await asyncio.wait_for(messenger.started.wait(), timeout=5)
    await sender.stop()

    assert messenger.texts_to("1001") == ["Nhắc việc r1"]
    assert row(database, "r1").state == OutboxState.SENT
    assert row(database, "r2").state == OutboxState.PENDING  # left for the next start


async def test_a_send_hanging_past_the_grace_period_is_cancelled_and_stays_queued(
    database: Database,
) -> None:
    messenger = SlowMessenger(30)
    enqueue(database, "r1", now=datetime.now(UTC))
    sender = OutboxSender(database, {"telegram": messenger}, clock=lambda: datetime.now(UTC))
    sender.start()
    await asyncio.wait_for(messenger.started.wait(), timeout=5)
    await sender.stop(grace=0.1)

    assert messenger.sent == []
    assert row(database, "r1").state == OutboxState.PENDING
    assert row(database, "r1").attempts == 0


async def test_a_retry_resumes_after_the_pieces_an_earlier_attempt_delivered(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    """A long message goes out in pieces: nobody gets piece 1 twice because piece 2 failed."""
    enqueue(database, "r1")
    messenger.fail_next("1001", TransientDeliveryError("502 Bad Gateway", pieces_sent=2))
    await sender.drain()
    assert row(database, "r1").pieces_sent == 2

    clock.advance(timedelta(minutes=5))
    await sender.drain()
    [(_, message)] = messenger.sent
    assert message.pieces_sent == 2
    assert row(database, "r1").state == OutboxState.SENT


async def test_a_refused_bot_token_keeps_messages_waiting_however_long_it_takes(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    """A revoked token is the bot's problem, not the message's: it waits for the new token."""
    enqueue(database, "r1")
    messenger.fail_next("1001", BotUnauthorized("401 Unauthorized"), times=50)
    for _ in range(50):
        await sender.drain()
        clock.advance(DEFAULT_RETRY_POLICY.cap)
    waiting = row(database, "r1")
    assert waiting.state == OutboxState.PENDING
    await sender.drain()  # the new token works
    assert row(database, "r1").state == OutboxState.SENT


async def test_reminders_wait_for_office_hours_but_coordinators_messages_do_not(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    calendar = WorkingCalendar(ZoneInfo("Asia/Ho_Chi_Minh"))

    def hold(message: OutboxMessage, now: datetime) -> datetime | None:
        if message.rule not in SCHEDULED_RULES:
            return None
        return office_hours_hold(now, calendar, opens=time(8, 30))

    evening = datetime(2021, 6, 4, 12, 30, tzinfo=UTC)  # Friday 19:30 in Thái Bình
    clock.set(evening)
    sender = OutboxSender(database, {"telegram": messenger}, clock=clock, hold=hold)
    reminder = outbox_message(
        key="truoc-han/1",
        channel="telegram",
        chat_id="1001",
        rule="truoc-han",
        text="Nhắc việc",
        now=evening,
    )
    notice = outbox_message(
        key="thong-bao/1",
        channel="telegram",
        chat_id="1001",
        rule="thong-bao",
        text="Thông báo của Sở",
        now=evening,
    )
    database.run_sync(outbox.enqueue_outbox, [reminder, notice])
    await sender.drain()
    assert messenger.texts_to("1001") == ["Thông báo của Sở"]
    monday = datetime(2021, 6, 7, 1, 30, tzinfo=UTC)  # 08:30 on Monday
    assert row(database, "truoc-han/1").next_attempt_at == monday
    clock.set(monday)
    await sender.drain()
    assert messenger.texts_to("1001") == ["Thông báo của Sở", "Nhắc việc"]


async def test_stopping_a_sender_that_never_started_does_nothing(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    sender = OutboxSender(database, {"telegram": messenger}, clock=clock)
    await sender.stop()
    sender.start()
    sender.start()  # a second start keeps the one task
    await sender.stop()


# --- the retry policy --------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_after_each_failure() -> None:
    policy = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(hours=1))

    delays = [policy.backoff(n) for n in range(1, 8)]

    assert delays == [timedelta(seconds=5 * 2**k) for k in range(7)]


def test_backoff_never_decreases_and_stops_at_the_cap() -> None:
    policy = DEFAULT_RETRY_POLICY

    delays = [policy.backoff(n) for n in range(0, 40)]

    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert max(delays) == policy.cap == timedelta(hours=1)
    assert policy.backoff(11) == policy.cap


def test_backoff_stays_at_the_cap_however_many_attempts_a_policy_allows() -> None:
    policy = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(hours=1), max_attempts=100)

    assert policy.backoff(64) == policy.cap


def test_backoff_before_any_failure_is_the_base() -> None:
    policy = RetryPolicy(base=timedelta(seconds=2))

    assert policy.backoff(0) == policy.backoff(1) == timedelta(seconds=2)


def test_backoff_has_no_jitter() -> None:
    policy = RetryPolicy()

    assert {policy.backoff(4) for _ in range(20)} == {timedelta(seconds=40)}


def test_the_platforms_retry_after_wins_over_the_backoff_but_is_at_least_a_second() -> None:
    policy = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=1))

    assert policy.wait(6, retry_after=3) == timedelta(seconds=3)
    assert policy.wait(1, retry_after=0.5) == policy.wait(1, retry_after=0) == timedelta(seconds=1)
    assert policy.wait(1, retry_after=600) == timedelta(minutes=10)
    assert policy.wait(3, retry_after=None) == policy.backoff(3) == timedelta(seconds=20)


def test_the_default_policy_is_five_seconds_doubling_to_an_hour_over_twelve_attempts() -> None:
    policy = DEFAULT_RETRY_POLICY

    assert (policy.base, policy.cap, policy.max_attempts) == (
        timedelta(seconds=5),
        timedelta(hours=1),
        12,
    )


def test_every_delivery_error_class_is_a_delivery_error() -> None:
    for error in (rate_limited(1), server_error(), blocked(), PermanentDeliveryError("x")):
        assert isinstance(error, DeliveryError)
    assert rate_limited(12).retry_after == 12
    assert server_error().retry_after is None


# --- channels side by side, pipelining, pauses ------------------------------------------------


class GatedMessenger(FakeMessenger):
    """Deliveries start, then hang until the test opens the gate (a slow or dead network);
    then each fails with ``error`` if given."""

    def __init__(self, channel: str, *, error: Exception | None = None) -> None:
        super().__init__(channel)
        self.gate = asyncio.Event()
        self.error = error
        self.started: list[str] = []
        self.finished: list[str] = []
        self.most_at_once = 0
        self._started = asyncio.Condition()

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        await self.budget.acquire(Priority.BULK)
        self.started.append(chat_id)
        self.most_at_once = max(self.most_at_once, len(self.started) - len(self.finished))
        async with self._started:
            self._started.notify_all()
        await self.gate.wait()
        self.finished.append(chat_id)
        if self.error is not None:
            raise self.error
        await super().deliver(chat_id, message)

    async def until_started(self, count: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._started:
            await self._started.wait_for(lambda: len(self.started) >= count)


async def test_a_hanging_channel_does_not_hold_up_another(
    database: Database, messenger: FakeMessenger, clock: FakeClock
) -> None:
    """Zalo timing out (every call hangs 15 s, then fails) delays no Telegram message."""
    zalo = GatedMessenger("zalo", error=TransientDeliveryError("ReadTimeout"))
    sender = OutboxSender(database, {"telegram": messenger, "zalo": zalo}, clock=clock)
    for n in range(20):
        enqueue(database, f"z{n}", channel="zalo", chat_id=f"zalo-{n}")
        enqueue(database, f"t{n}", channel="telegram", chat_id=str(1000 + n))

    drain = asyncio.create_task(sender.drain())
    await zalo.until_started(1)
    await messenger.wait_until(lambda: len(messenger.sent) == 20)
    assert not zalo.finished  # Zalo still hangs: Telegram did not wait for it
    assert not drain.done()
    zalo.gate.set()
    result = await asyncio.wait_for(drain, timeout=5)

    assert (result.sent, result.retried) == (20, 20)
    assert row(database, "t19").state == OutboxState.SENT
    assert row(database, "z0").state == OutboxState.PENDING
    assert row(database, "z0").attempts == 1


class RoundTripMessenger(GatedMessenger):
    """A server far away: each delivery takes ``seconds`` of the (fake) clock to come back."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        super().__init__("telegram")
        self.clock, self.seconds = clock, seconds

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        await super().deliver(chat_id, message)
        self.clock.advance(timedelta(seconds=self.seconds))


async def measure_a_round_trip(
    database: Database, sender: OutboxSender, slow: RoundTripMessenger
) -> None:
    """One message through the gate, so the sender has measured the round trip."""
    enqueue(database, "first", chat_id="1999", now=slow.clock())
    first = asyncio.create_task(sender.drain())
    await slow.until_started(1)
    slow.gate.set()
    await asyncio.wait_for(first, timeout=5)
    slow.gate.clear()


async def test_deliveries_are_pipelined_as_far_as_the_round_trip_needs_up_to_the_bound(
    database: Database, clock: FakeClock
) -> None:
    """One second to confirm a message at up to 10,000 a second: the window opens to its
    bound of four once the first round trip is measured, no further."""
    slow = RoundTripMessenger(clock, seconds=1.0)
    sender = OutboxSender(database, {"telegram": slow}, clock=clock, pipeline=Pipeline(in_flight=4))
    await measure_a_round_trip(database, sender, slow)
    for n in range(10):
        enqueue(database, f"r{n}", chat_id=str(2000 + n), now=clock())

    drain = asyncio.create_task(sender.drain())
    await slow.until_started(1 + 4)
    with pytest.raises(TimeoutError):  # a fifth does not start while four are under way
        await slow.until_started(1 + 5, within=0.05)
    slow.gate.set()
    result = await asyncio.wait_for(drain, timeout=5)

    assert result.sent == 10
    assert slow.most_at_once == 4
    assert sorted(slow.texts_to(str(2000 + n))[0] for n in range(10)) == sorted(
        f"Nhắc việc r{n}" for n in range(10)
    )


async def test_by_default_one_message_is_under_way_even_over_a_slow_link(
    database: Database, clock: FakeClock
) -> None:
    """MESSAGES_IN_FLIGHT unset: however long the round trip, each message is recorded before
    the next starts, so a crash at any moment repeats the one message in flight at most."""
    slow = RoundTripMessenger(clock, seconds=1.0)
    sender = OutboxSender(database, {"telegram": slow}, clock=clock)
    await measure_a_round_trip(database, sender, slow)
    for n in range(5):
        enqueue(database, f"r{n}", chat_id=str(4000 + n), now=clock())
    slow.gate.set()

    result = await asyncio.wait_for(sender.drain(), timeout=5)

    assert result.sent == 5
    assert slow.most_at_once == 1


async def test_against_a_quick_server_each_message_is_recorded_before_the_next_starts(
    database: Database, clock: FakeClock
) -> None:
    """The window stays at one: a crash at any moment could repeat one message only."""
    unrecorded_at_start: list[int] = []

    class Checking(FakeMessenger):
        async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
            states = await database.run(
                lambda s: list(s.exec(select(OutboxMessage.state, OutboxMessage.chat_id)))
            )
            delivered = {chat for chat, _ in self.sent}
            unrecorded_at_start.append(
                sum(1 for state, chat in states if chat in delivered and state != "sent")
            )
            await super().deliver(chat_id, message)

    checking = Checking()
    sender = OutboxSender(database, {"telegram": checking}, clock=clock)
    for n in range(30):
        enqueue(database, f"r{n}", chat_id=str(3000 + n))

    result = await sender.drain()

    assert result.sent == 30
    assert unrecorded_at_start == [0] * 30


async def test_messages_to_one_chat_go_one_at_a_time_in_order(
    database: Database, clock: FakeClock
) -> None:
    slow = RoundTripMessenger(clock, seconds=1.0)
    sender = OutboxSender(database, {"telegram": slow}, clock=clock, pipeline=Pipeline(in_flight=8))
    await measure_a_round_trip(database, sender, slow)  # the window is open to eight
    for n in range(3):
        enqueue(database, f"r{n}", chat_id="1001", now=clock() + timedelta(seconds=n))
    enqueue(database, "other", chat_id="1002", now=clock() + timedelta(seconds=5))
    clock.advance(timedelta(minutes=1))

    drain = asyncio.create_task(sender.drain())
    await slow.until_started(1 + 2)
    assert slow.started[1:] == ["1001", "1002"]  # the second message to 1001 waits for the first
    slow.gate.set()
    await asyncio.wait_for(drain, timeout=5)

    assert slow.texts_to("1001") == ["Nhắc việc r0", "Nhắc việc r1", "Nhắc việc r2"]
    assert slow.most_at_once == 2


async def test_a_rate_limit_pauses_the_whole_channel_for_retry_after(
    database: Database,
    messenger: FakeMessenger,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a 429 nothing goes to any chat of the channel until retry_after has passed; the
    rows that were waiting stay queued untouched (no attempt used up), and the 429 is one
    warning, without a traceback."""
    zalo = FakeMessenger("zalo", clock=clock)
    sender = OutboxSender(database, {"telegram": messenger, "zalo": zalo}, clock=clock)
    for n in range(10):
        enqueue(database, f"t{n}", chat_id=str(1000 + n))
    enqueue(database, "z0", channel="zalo", chat_id="zalo-0")
    messenger.fail_next("1000", rate_limited(retry_after=30))

    with caplog.at_level(logging.INFO):
        first = await sender.drain()

    assert messenger.attempts == ["1000"]  # nothing to the other nine
    assert zalo.texts_to("zalo-0") == ["Nhắc việc z0"]  # another channel is not paused
    assert (first.retried, first.sent) == (1, 1)
    waiting = [row(database, f"t{n}") for n in range(1, 10)]
    assert {(r.state, r.attempts, r.next_attempt_at) for r in waiting} == {
        (OutboxState.PENDING, 0, START)
    }
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "telegram: rate limited (429 on outbox row" in warnings[0].getMessage()

    clock.advance(timedelta(seconds=29))
    assert (await sender.drain()).attempted == 0
    assert messenger.attempts == ["1000"]
    clock.advance(timedelta(seconds=1))
    assert (await sender.drain()).sent == 10
    assert Counter(messenger.attempts) == {"1000": 2} | {str(1000 + n): 1 for n in range(1, 10)}


async def test_each_rate_limited_delivery_is_one_warning(
    database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Two deliveries under way both answered 429: two warnings, nothing else above INFO."""
    flood = RoundTripMessenger(clock, seconds=1.0)
    eight = Pipeline(in_flight=8)
    sender = OutboxSender(database, {"telegram": flood}, clock=clock, pipeline=eight)
    await measure_a_round_trip(database, sender, flood)  # the window is open to eight
    flood.error = rate_limited(retry_after=3)
    for n in range(5):
        enqueue(database, f"r{n}", chat_id=str(3000 + n), now=clock())

    with caplog.at_level(logging.INFO):
        drain = asyncio.create_task(sender.drain())
        await flood.until_started(1 + 2)
        flood.gate.set()
        result = await asyncio.wait_for(drain, timeout=5)

    assert result.retried == len(flood.finished) - 1 >= 2
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == result.retried
    assert all(r.exc_info is None and "rate limited" in r.getMessage() for r in warnings)


async def test_a_pause_in_the_middle_of_a_long_message_keeps_the_pieces_already_sent(
    database: Database, sender: OutboxSender, messenger: FakeMessenger, clock: FakeClock
) -> None:
    enqueue(database, "long")
    messenger.fail_next("1001", ChannelPaused("telegram is paused", pieces_sent=2))

    result = await sender.drain()

    assert result.attempted == 0  # not an attempt: the channel paused, the message did not fail
    paused = row(database, "long")
    assert (paused.state, paused.attempts, paused.pieces_sent) == (OutboxState.PENDING, 0, 2)
    await sender.drain()
    [(_, message)] = messenger.sent
    assert message.pieces_sent == 2


async def test_results_that_arrive_during_a_write_are_written_together(
    database: Database, clock: FakeClock
) -> None:
    """Forty sends to a slow server (the window open to eight): a write per group of results
    that came back together, not one per message."""
    slow = RoundTripMessenger(clock, seconds=1.0)
    slow.gate.set()
    sender = OutboxSender(database, {"telegram": slow}, clock=clock, pipeline=Pipeline(in_flight=8))
    for n in range(40):
        enqueue(database, f"r{n}", chat_id=str(4000 + n))
    updates: list[str] = []

    def count_updates(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            updates.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", count_updates)
    try:
        result = await sender.drain()
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count_updates)

    assert result.sent == 40
    assert 1 < len(updates) < 40
    sent = [row(database, f"r{n}") for n in range(40)]
    assert {(r.state, r.attempts) for r in sent} == {(OutboxState.SENT, 1)}


async def test_a_result_is_written_as_soon_as_its_delivery_ends(
    database: Database, messenger: FakeMessenger
) -> None:
    sender = OutboxSender(database, {"telegram": messenger}, clock=lambda: datetime.now(UTC))
    enqueue(database, "r1", now=datetime.now(UTC))
    sender.start()
    try:
        await messenger.wait_until(lambda: len(messenger.sent) == 1)
        await wait_until_state(database, "r1", OutboxState.SENT, timeout=2)
    finally:
        await sender.stop()


async def test_a_write_that_fails_holds_the_next_deliveries_until_it_succeeds(
    database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refuses one write of results: no further message starts while those
    results are unrecorded (each one would be sent again after a crash), they are written
    at the end of the drain, and the log says it in one warning line."""
    failures = [sa.exc.OperationalError("UPDATE outbox", {}, Exception("database is locked"))]
    messenger = FakeMessenger()
    sender = OutboxSender(database, {"telegram": messenger}, clock=clock)
    for n in range(5):
        enqueue(database, f"r{n}", chat_id=str(5000 + n))

    def refuse_once(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX") and failures:
            raise failures.pop()

    sa.event.listen(database.engine, "before_cursor_execute", refuse_once)
    try:
        with caplog.at_level(logging.WARNING):
            first = await sender.drain()
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", refuse_once)

    assert len(messenger.sent) == 1 and first.sent == 1  # written by the drain's last write
    assert row(database, "r0").state == OutboxState.SENT
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "could not record the outbox results" in warning.getMessage()
    assert warning.exc_info is None
    second = await sender.drain()
    assert second.sent == 4
    assert {chat for chat, _ in messenger.sent} == {str(5000 + n) for n in range(5)}
