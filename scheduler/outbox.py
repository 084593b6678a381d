"""The delivery outbox: queued messages, drained per channel under that channel's budget.

Every message a rule sends goes through an outbox row whose key is unique (rule, occurrence,
recipient), so queuing the same reminder twice queues it once, and a row recorded as sent is
never sent again. Transient failures are retried with back-off (or after the platform's
``retry_after``); a recipient who blocked the bot is recorded and not retried.

Each channel is drained by its own task, so a slow or failing channel (Zalo timing out) never
holds up another. Within a channel several deliveries are under way at once, each waiting for a
slot of the channel's :class:`~scheduler.pacing.SendingBudget` (shared with the adapter's
replies, which go first); messages to one chat go one at a time, in order. A rate limit
(429 with ``retry_after``) pauses the whole channel. Results are written as they arrive, those
that arrive during a write together in the next; a row being delivered or waiting for its
write is never fetched again meanwhile.

What a crash can do: a row is committed before it is sent, so it is delivered at least once.
Only the messages of the delivery window (:class:`~scheduler.pacing.DeliveryWindow`: started,
not yet recorded) can be sent a second time after a restart. The window holds one message,
unless ``Pipeline.in_flight`` (``MESSAGES_IN_FLIGHT``) lets it open as far as the channel's
round trip needs to keep its rate; nothing else is sent twice, nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from scheduler.messages import (
    ButtonRows,
    OutgoingMessage,
    Picture,
    buttons_from_json,
    buttons_to_json,
)
from scheduler.messenger import (
    BotUnauthorized,
    ChannelPaused,
    DeliveryError,
    Messenger,
    RecipientUnreachable,
    TransientDeliveryError,
)
from scheduler.pacing import DeliveryWindow, WindowBroken, count_budget_waits
from storage import outbox, people
from storage.database import Database
from storage.lease import LeadershipLost, fenced
from storage.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Hold = Callable[[OutboxMessage, datetime], datetime | None]

IDLE_WAIT_SECONDS = 60.0
ERROR_WAIT_SECONDS = 5.0
WRITE_GRACE_SECONDS = 5.0  # at stop, for the last results to be written after a grace ran out


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


def queued_message(
    *,
    key: str,
    channel: str,
    chat_id: str,
    rule: str,
    text: str,
    now: datetime,
    buttons: ButtonRows = (),
    focal_point_id: int | None = None,
) -> outbox.QueuedMessage:
    """A message to queue with :func:`storage.outbox.enqueue_outbox`, due ``now``."""
    return outbox.QueuedMessage(
        key=key,
        channel=channel,
        chat_id=chat_id,
        rule=rule,
        text=text,
        next_attempt_at=now,
        created_at=now,
        buttons=buttons_to_json(buttons),
        focal_point_id=focal_point_id,
    )


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
    """As :func:`queued_message`, but as a table object, which takes about 0.3 ms to build (3 s
    for a broadcast to 10,000 people, before its first message): a fan-out should queue
    :func:`queued_message` values instead."""
    queued = queued_message(
        key=key,
        channel=channel,
        chat_id=chat_id,
        rule=rule,
        text=text,
        now=now,
        buttons=buttons,
        focal_point_id=focal_point_id,
    )
    return OutboxMessage(**dataclasses.asdict(queued))


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.blocked + self.failed

    def __add__(self, other: DrainResult) -> DrainResult:
        return DrainResult(
            self.sent + other.sent,
            self.retried + other.retried,
            self.blocked + other.blocked,
            self.failed + other.failed,
        )

    def count(self, state: OutboxState) -> None:
        if state == OutboxState.SENT:
            self.sent += 1
        elif state == OutboxState.PENDING:
            self.retried += 1
        elif state == OutboxState.BLOCKED:
            self.blocked += 1
        else:
            self.failed += 1


def due_messages(
    session: Session,
    *,
    now: datetime,
    limit: int,
    channels: Sequence[str],
    exclude: frozenset[int] = frozenset(),
) -> list[OutboxMessage]:
    """The rows due now, read only while this instance leads (:func:`fenced`)."""
    fenced(session)
    return outbox.due_outbox(session, now=now, limit=limit, channels=channels, exclude=exclude)


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


@dataclass(frozen=True)
class Outcome:
    """What became of one row in a drain, to be written with its batch: sent (no error, not
    held), held until a later time, failed with ``error``, or untouched because the channel
    paused first (a :class:`ChannelPaused` error: not an attempt)."""

    row: OutboxMessage
    at: datetime
    error: DeliveryError | None = None
    held_until: datetime | None = None

    @property
    def row_id(self) -> int:
        assert self.row.id is not None
        return self.row.id

    @property
    def sent(self) -> bool:
        return self.error is None and self.held_until is None


def record_progress(session: Session, *, message_id: int, pieces_sent: int) -> None:
    """The pieces of a long message that went out before the channel paused."""
    row = session.get(OutboxMessage, message_id)
    assert row is not None
    row.pieces_sent = max(row.pieces_sent, pieces_sent)
    session.add(row)


def record_outcomes(
    session: Session, outcomes: Sequence[Outcome], *, policy: RetryPolicy = DEFAULT_RETRY_POLICY
) -> list[OutboxState]:
    """Write a batch of outcomes in one transaction; returns each row's new state, in order."""
    fenced(session)
    outbox.mark_outbox_sent(session, [(o.row_id, o.at) for o in outcomes if o.sent])
    states = []
    for outcome in outcomes:
        if outcome.sent:
            states.append(OutboxState.SENT)
        elif outcome.held_until is not None:
            hold_until(session, message_id=outcome.row_id, when=outcome.held_until)
            states.append(OutboxState.PENDING)
        elif isinstance(outcome.error, ChannelPaused):
            if outcome.error.pieces_sent:
                record_progress(
                    session, message_id=outcome.row_id, pieces_sent=outcome.error.pieces_sent
                )
            states.append(OutboxState.PENDING)
        else:
            assert outcome.error is not None
            states.append(
                record_failure(
                    session,
                    message_id=outcome.row_id,
                    error=outcome.error,
                    now=outcome.at,
                    policy=policy,
                )
            )
    finished = [
        outcome.row_id
        for outcome, state in zip(outcomes, states, strict=True)
        if outcome.row.pictures and state != OutboxState.PENDING
    ]
    outbox.drop_pictures(session, finished)
    return states


@dataclass(frozen=True)
class Pipeline:
    """How a channel's outbox is worked through."""

    fetch: int = 50  # rows read per query
    # Messages started but not yet recorded, at most: the window opens this far only as the
    # channel's rate and round trip need (scheduler.pacing.DeliveryWindow). One by default: a
    # crash then repeats at most the one message in flight (MESSAGES_IN_FLIGHT raises it).
    in_flight: int = 1


@dataclass(frozen=True)
class _Setup:
    """What every channel's drain shares with the sender."""

    database: Database
    clock: Clock
    pipeline: Pipeline
    retry_policy: RetryPolicy
    hold: Hold | None


class ChannelDrain:
    """The outbox of one channel: deliveries pipelined within its budget and its delivery
    window, results written together as they arrive (one write at a time: those that arrive
    during a write go in the next)."""

    def __init__(self, messenger: Messenger, setup: _Setup) -> None:
        self.messenger = messenger
        self.channel = messenger.channel
        self.budget = messenger.budget
        self._setup = setup
        self._claimed: set[int] = set()  # being delivered or waiting for its batch write
        self._outcomes: list[Outcome] = []  # waiting for their batch write
        self._in_flight: dict[asyncio.Task[Outcome], OutboxMessage] = {}
        self._busy_chats: dict[str, asyncio.Task[Outcome]] = {}
        self.window = DeliveryWindow(self.budget.max_rate, setup.pipeline.in_flight)
        # row id: when its delivery took a window slot, later by its waits for sending slots
        self._started: dict[int, datetime] = {}
        self._write_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._result = DrainResult()

    @property
    def paused(self) -> bool:
        return self.budget.pause_left() > 0

    async def drain(self, stopping: Callable[[], bool] = lambda: False) -> DrainResult:
        """Send what is due on this channel until none is left, the channel pauses or
        ``stopping()``; returns once every result is written."""
        self._result = result = DrainResult()
        await self._write()  # results a failed write left: their slots free again first
        self.window.mend()
        try:
            while not stopping() and not self.paused:
                rows = await self._setup.database.run(
                    due_messages,
                    now=self._setup.clock(),
                    limit=self._setup.pipeline.fetch,
                    channels=[self.channel],
                    exclude=frozenset(self._claimed),
                )
                if not rows or not await self._start_all(rows, stopping):
                    break
        except WindowBroken:  # the write below tries again, and raises if it fails again
            pass
        finally:
            try:
                while self._in_flight:
                    await asyncio.wait(list(self._in_flight))
            finally:  # even when cancelled: what was delivered must be written
                await self._write()
        return result

    async def _start_all(self, rows: Sequence[OutboxMessage], stopping: Callable[[], bool]) -> bool:
        """Start delivering ``rows``; False when the drain must end first (stopping, paused).

        One message at a time goes to a chat, in order: a row for a chat with a message under
        way is started after the rest of the batch, once that chat is free.
        """
        later: list[OutboxMessage] = []
        for row in rows:
            if self._held(row):
                continue
            if row.chat_id in self._busy_chats or any(r.chat_id == row.chat_id for r in later):
                later.append(row)
            elif not await self._start_in_a_slot(row, stopping):
                return False
        for row in later:
            busy = self._busy_chats.get(row.chat_id)
            if busy is not None:
                await asyncio.wait({busy})
            if not await self._start_in_a_slot(row, stopping):
                return False
        return True

    def _held(self, row: OutboxMessage) -> bool:
        """Whether ``row`` must wait for a later time (office hours); if so, record that."""
        hold = self._setup.hold
        later = hold(row, self._setup.clock()) if hold is not None else None
        if later is None:
            return False
        assert row.id is not None
        self._claimed.add(row.id)
        self._record(Outcome(row, self._setup.clock(), held_until=later))
        return True

    async def _start_in_a_slot(self, row: OutboxMessage, stopping: Callable[[], bool]) -> bool:
        await self.window.acquire()
        if stopping() or self.paused:
            self.window.release(None)
            return False
        self._start(row)
        return True

    def _start(self, row: OutboxMessage) -> None:
        assert row.id is not None
        self._claimed.add(row.id)
        self._started[row.id] = self._setup.clock()
        task = asyncio.create_task(self._deliver(row), name=f"outbox-{self.channel}-{row.id}")
        self._in_flight[task] = row
        self._busy_chats[row.chat_id] = task
        task.add_done_callback(self._delivered)

    async def _deliver(self, row: OutboxMessage) -> Outcome:
        """One delivery; never raises (but may be cancelled when the sender stops)."""
        assert row.id is not None
        waits = count_budget_waits()  # this task's own: it runs in a context of its own
        try:
            return await self._deliver_counted(row)
        finally:
            self._started[row.id] += timedelta(seconds=waits.seconds)

    async def _deliver_counted(self, row: OutboxMessage) -> Outcome:
        try:
            try:
                message = OutgoingMessage(
                    text=row.text,
                    buttons=buttons_from_json(row.buttons),
                    pieces_sent=row.pieces_sent,
                    pictures=await self._pictures(row),
                )
                await self.messenger.deliver(row.chat_id, message)
            except DeliveryError:
                raise
            except Exception as exc:  # a bug or an unclassified failure: retry, do not stall
                log.exception("unexpected error delivering outbox row %s", row.id)
                raise TransientDeliveryError(f"unexpected: {exc!r}") from exc
        except DeliveryError as exc:
            if isinstance(exc, TransientDeliveryError) and exc.retry_after is not None:
                self.budget.pause(exc.retry_after, reason=f"429 on outbox row {row.id}")
            return Outcome(row, self._setup.clock(), error=exc)
        return Outcome(row, self._setup.clock())

    async def _pictures(self, row: OutboxMessage) -> tuple[Picture, ...]:
        if not row.pictures:
            return ()
        assert row.id is not None
        kept = await self._setup.database.run(outbox.pictures_of, outbox_id=row.id)
        return tuple(Picture(p.filename, p.content, p.caption) for p in kept)

    def _delivered(self, task: asyncio.Task[Outcome]) -> None:
        row = self._in_flight.pop(task)
        if self._busy_chats.get(row.chat_id) is task:
            del self._busy_chats[row.chat_id]
        if task.cancelled():  # abandoned at stop: whether it arrived is unknown; it stays queued
            assert row.id is not None
            self._claimed.discard(row.id)
            del self._started[row.id]
            self.window.release(None)
        else:
            self._record(task.result())

    def abandon(self) -> None:
        """Cancel the deliveries under way (a stop whose grace ran out)."""
        for task in list(self._in_flight):
            task.cancel()

    # --- writing results as they arrive -----------------------------------------------------

    def _record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_in_background())

    async def _write_in_background(self) -> None:
        try:
            while self._outcomes:
                await self._write()
        except Exception as exc:  # kept in memory; the drain stops and its last write tries again
            if not isinstance(exc, LeadershipLost):
                log.warning("could not record the outbox results of %s: %s", self.channel, exc)
            self.window.break_with(exc)

    async def _write(self) -> None:
        """Write the waiting results in one transaction."""
        async with self._write_lock:
            batch, self._outcomes = self._outcomes, []
            if not batch:
                return
            try:
                states = await self._setup.database.run(
                    record_outcomes, batch, policy=self._setup.retry_policy
                )
            except BaseException:
                self._outcomes[:0] = batch  # kept (and still claimed) for the next write
                raise
            now = self._setup.clock()
            for outcome, state in zip(batch, states, strict=True):
                self._claimed.discard(outcome.row_id)
                started = self._started.pop(outcome.row_id, None)
                if started is not None:  # a delivery (not a row held for office hours)
                    self.window.release((now - started).total_seconds())
                self._tally(outcome, state)

    def _tally(self, outcome: Outcome, state: OutboxState) -> None:
        error = outcome.error
        if outcome.held_until is not None or isinstance(error, ChannelPaused):
            return  # not an attempt
        self._result.count(state)
        if error is not None and not getattr(error, "retry_after", None):  # 429s: warned
            row = outcome.row
            log.info(
                "outbox %s to %s:%s: %s (%s)", row.rule, row.channel, row.chat_id, state, error
            )


class OutboxSender:
    """Drains the outbox, one task per channel; one per database (the service lock makes sure
    of that)."""

    def __init__(
        self,
        database: Database,
        messengers: Mapping[str, Messenger],
        *,
        clock: Clock,
        pipeline: Pipeline = Pipeline(),
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        hold: Hold | None = None,
    ) -> None:
        """``hold(row, now)`` may say a message must wait until a later time (reminders outside
        office hours); None sends it now."""
        self.retry_policy = retry_policy
        self._database = database
        self._clock = clock
        setup = _Setup(database, clock, pipeline, retry_policy, hold)
        self._drains = {name: ChannelDrain(m, setup) for name, m in sorted(messengers.items())}
        self._wake = {name: asyncio.Event() for name in self._drains}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def channels(self) -> list[str]:
        return list(self._drains)

    def wake(self) -> None:
        """Look at the outbox now (new rows were queued)."""
        for event in self._wake.values():
            event.set()

    async def drain(self) -> DrainResult:
        """Send everything that is due now on every channel, side by side; returns what
        happened (a paused channel sends nothing until its pause ends)."""
        results = await asyncio.gather(
            *(drain.drain(self._is_stopping) for drain in self._drains.values())
        )
        return sum(results, DrainResult())

    def _is_stopping(self) -> bool:
        return self._stopping

    async def _run_channel(self, drain: ChannelDrain) -> None:
        """Drain one channel until stopped, waking on :meth:`wake`, when the next retry is due
        or when a pause ends."""
        wake = self._wake[drain.channel]
        while not self._stopping:
            wake.clear()
            try:
                await drain.drain(self._is_stopping)
                timeout = await self._idle_time(drain)
            except LeadershipLost as lost:  # another instance sends now; bot.app stands down
                log.warning("outbox sender of %s stops: %s", drain.channel, lost.reason)
                return
            except sa.exc.DBAPIError as exc:  # the database is away: one line, no traceback
                log.warning("outbox of %s waits for the database: %s", drain.channel, exc.orig)
                timeout = ERROR_WAIT_SECONDS
            except Exception:
                log.exception("outbox drain of %s failed; trying again shortly", drain.channel)
                timeout = ERROR_WAIT_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=timeout)

    async def _idle_time(self, drain: ChannelDrain) -> float:
        if drain.paused:
            return drain.budget.pause_left()
        next_at = await self._database.run(outbox.next_outbox_attempt, channels=[drain.channel])
        if next_at is None:
            return IDLE_WAIT_SECONDS
        return max(0.0, min(IDLE_WAIT_SECONDS, (next_at - self._clock()).total_seconds()))

    async def run(self) -> None:
        """Drain every channel until :meth:`stop`, or until this instance no longer leads."""
        self.start()
        await asyncio.gather(*self._tasks.values())

    def start(self) -> None:
        for name, drain in self._drains.items():
            if name not in self._tasks:
                self._tasks[name] = asyncio.create_task(
                    self._run_channel(drain), name=f"outbox-{name}"
                )

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the deliveries under way and write their results, then stop.

        Deliveries still hanging after ``grace`` seconds are cancelled; their rows stay queued
        and may be delivered again after a restart (at least once, never silently lost).
        """
        if not self._tasks:
            return
        self._stopping = True
        self.wake()
        tasks = list(self._tasks.values())
        try:
            _, hanging = await asyncio.wait(tasks, timeout=grace)
            if hanging:
                for drain in self._drains.values():
                    drain.abandon()
                _, hanging = await asyncio.wait(hanging, timeout=WRITE_GRACE_SECONDS)
            for task in hanging:  # the database does not answer: give up on the writes
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks = {}
            self._stopping = False
