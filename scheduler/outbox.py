"""The delivery outbox: queued messages, drained under each channel's rate limit.

Every message a rule sends goes through an outbox row whose key is unique (rule, occurrence,
recipient), so queuing the same reminder twice queues it once, and a row recorded as sent is
never sent again. Transient failures are retried with back-off (or after the platform's
``retry_after``); a recipient who blocked the bot is recorded and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from scheduler.messages import ButtonRows, OutgoingMessage, buttons_from_json, buttons_to_json
from scheduler.messenger import (
    BotUnauthorized,
    DeliveryError,
    Messenger,
    PermanentDeliveryError,
    RecipientUnreachable,
    TransientDeliveryError,
)
from storage import outbox, people
from storage.database import Database
from storage.lease import LeadershipLost, fenced
from storage.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

IDLE_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: exponential back-off unless the platform says when."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12  # 5 s … 1 h apart: about 2½ hours of outage before giving up

    def backoff(self, attempts: int) -> timedelta:
        """base, 2×base, 4×base … capped (5 s, 10 s, 20 s … 1 h by default)."""
        doublings = min(max(attempts - 1, 0), 60)  # capped in seconds: no overflow however many
        seconds = self.base.total_seconds() * 2.0**doublings
        return min(timedelta(seconds=min(seconds, self.cap.total_seconds())), self.cap)

    def wait(self, attempts: int, retry_after: float | None) -> timedelta:
        """Telegram's retry_after is exact; otherwise back off."""
        if retry_after is not None:  # at least a second: 0 would retry within the same drain
            return timedelta(seconds=max(retry_after, 1.0))
        return self.backoff(attempts)


DEFAULT_RETRY_POLICY = RetryPolicy()


def outbox_message(
    *,
    key: str,
    channel: str,
    chat_id: str,
    rule: str,
    text: str,
    now: datetime,
    buttons: ButtonRows = (),
    focal_point_id: int | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        key=key,
        channel=channel,
        chat_id=chat_id,
        focal_point_id=focal_point_id,
        rule=rule,
        text=text,
        buttons=buttons_to_json(buttons),
        next_attempt_at=now,
        created_at=now,
    )


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.blocked + self.failed


def due_messages(
    session: Session, *, now: datetime, limit: int, channels: Sequence[str]
) -> list[OutboxMessage]:
    """The rows due now, read only while this instance leads (:func:`fenced`)."""
    fenced(session)
    return outbox.due_outbox(session, now=now, limit=limit, channels=channels)


def record_sent(session: Session, *, message_id: int, now: datetime) -> None:
    fenced(session)
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    row.state, row.sent_at, row.attempts, row.last_error = (
        OutboxState.SENT,
        now,
        row.attempts + 1,
        None,
    )
    session.add(row)


def hold_until(session: Session, *, message_id: int, when: datetime) -> None:
    fenced(session)
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    row.next_attempt_at = when
    session.add(row)


def record_failure(
    session: Session,
    *,
    message_id: int,
    error: Exception,
    now: datetime,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> OutboxState:
    """Record a failed attempt; returns the row's new state."""
    fenced(session)
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, DeliveryError):
        row.pieces_sent = max(row.pieces_sent, error.pieces_sent)
    if isinstance(error, BotUnauthorized):
        row.attempts = min(row.attempts, policy.max_attempts - 1)
        row.next_attempt_at = now + policy.cap
    elif isinstance(error, RecipientUnreachable):
        row.state = OutboxState.BLOCKED
        people.mark_chat_blocked(session, channel=row.channel, chat_id=row.chat_id, now=now)
    elif isinstance(error, TransientDeliveryError) and row.attempts < policy.max_attempts:
        row.next_attempt_at = now + policy.wait(row.attempts, error.retry_after)
    else:
        row.state = OutboxState.FAILED
    session.add(row)
    return row.state


class OutboxSender:
    """Drains the outbox; one per database (the service lock makes sure of that)."""

    def __init__(
        self,
        database: Database,
        messengers: Mapping[str, Messenger],
        *,
        clock: Clock,
        batch_size: int = 50,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        hold: Callable[[OutboxMessage, datetime], datetime | None] | None = None,
    ) -> None:
        """``hold(row, now)`` may say a message must wait until a later time (reminders outside
        office hours); None sends it now."""
        self.hold = hold
        self.retry_policy = retry_policy
        self._database = database
        self._messengers = dict(messengers)
        self._clock = clock
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_send: dict[str, float] = {}

    @property
    def channels(self) -> list[str]:
        return sorted(self._messengers)

    def wake(self) -> None:
        """Look at the outbox now (new rows were queued)."""
        self._wake.set()

    async def drain(self) -> DrainResult:
        """Send everything that is due now; returns what happened."""
        result = DrainResult()
        while True:
            now = self._clock()
            rows = await self._database.run(
                due_messages, now=now, limit=self._batch_size, channels=self.channels
            )
            if not rows:
                return result
            for row in rows:
                if self._stopping:
                    return result
                await self._send_one(row, result)

    async def _send_one(self, row: OutboxMessage, result: DrainResult) -> None:
        assert row.id is not None
        later = self.hold(row, self._clock()) if self.hold is not None else None
        if later is not None:
            await self._database.run(hold_until, message_id=row.id, when=later)
            return
        messenger = self._messengers[row.channel]
        await self._pace(messenger)
        message = OutgoingMessage(
            text=row.text, buttons=buttons_from_json(row.buttons), pieces_sent=row.pieces_sent
        )
        try:
            try:
                await messenger.deliver(row.chat_id, message)
            except DeliveryError:
                raise
            except Exception as exc:  # a bug or an unclassified failure: retry, do not stall
                log.exception("unexpected error delivering outbox row %s", row.id)
                raise TransientDeliveryError(f"unexpected: {exc!r}") from exc
        except (TransientDeliveryError, RecipientUnreachable, PermanentDeliveryError) as exc:
            state = await self._database.run(
                record_failure,
                message_id=row.id,
                error=exc,
                now=self._clock(),
                policy=self.retry_policy,
            )
            log.info("outbox %s to %s:%s: %s (%s)", row.rule, row.channel, row.chat_id, state, exc)
            if state == OutboxState.PENDING:
                result.retried += 1
            elif state == OutboxState.BLOCKED:
                result.blocked += 1
            else:
                result.failed += 1
            return
        await self._database.run(record_sent, message_id=row.id, now=self._clock())
        result.sent += 1

    async def _pace(self, messenger: Messenger) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / messenger.messages_per_second
        last = self._last_send.get(messenger.channel)
        if last is not None:
            delay = last + interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        self._last_send[messenger.channel] = loop.time()

    async def run(self) -> None:
        """Drain until cancelled, waking on :meth:`wake` or when the next retry is due."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
            except LeadershipLost as lost:  # another instance sends now; bot.app stands down
                log.warning("outbox sender stops: %s", lost.reason)
                return
            except Exception:
                log.exception("outbox drain failed; trying again shortly")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=5)
                continue
            next_at = await self._database.run(outbox.next_outbox_attempt, channels=self.channels)
            timeout = IDLE_WAIT_SECONDS
            if next_at is not None:
                timeout = max(0.0, min(timeout, (next_at - self._clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-sender")

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the message being sent (so it is recorded as sent), then stop.

        A send still hanging after ``grace`` seconds is cancelled; it stays queued and may be
        delivered again after a restart (delivery is at least once, never silently lost).
        """
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._task = None
            self._stopping = False
