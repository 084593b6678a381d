"""Each channel's sending budget: how fast it may send, who goes first, when it must stop.

One :class:`SendingBudget` per channel is shared by the channel adapter (its answers to the
person in the chat) and the outbox (reminders, broadcasts): the channel's limit is applied once,
to everything it sends. Sends are spaced ``1 / max_rate`` seconds apart on the event loop's
clock, by the generic cell rate algorithm with half a slot of tolerance, so that a timer firing
a little late does not lower the rate (at 30 per second no window of one second holds more
than 31 sends, as with exact spacing). A waiting reply takes the next free slot before every
waiting bulk send, so a reply never queues behind a fan-out. A rate limit (HTTP 429 with
``retry_after``) pauses the whole channel: bulk sends stop at once (:class:`ChannelPaused`),
replies wait for the end of a short pause.

Why not aiolimiter (installed with python-telegram-bot's rate-limiter extra): its AsyncLimiter
serves waiters of equal size in arrival order, so a reply would wait behind the fan-out's
waiters; it lets a full bucket burst (AsyncLimiter(30, 1) sends 30 at once, and up to 60 within
one second); and it cannot be paused. Spacing slots is a few lines; priorities and the pause are
what this module is for.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import heapq
import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scheduler.messenger import ChannelPaused

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

REPLY_PATIENCE = 10.0  # seconds a reply waits out a pause; longer, it is not sent


def utc_now() -> datetime:
    return datetime.now(UTC)


class Priority(enum.IntEnum):
    """Who goes first when both wait for a slot (lower first)."""

    REPLY = 0  # someone is waiting in the chat for the answer
    BULK = 1  # the outbox: reminders, broadcasts


class SendingBudget:
    """The sending slots of one channel, ``max_rate`` per second, replies first."""

    def __init__(
        self,
        channel: str,
        max_rate: float,
        *,
        clock: Clock = utc_now,
        reply_patience: float = REPLY_PATIENCE,
    ) -> None:
        """``clock`` keeps the pauses (the service's clock, so a test's fake clock ends them);
        the spacing of slots is measured on the event loop's monotonic clock."""
        if not max_rate > 0:
            raise ValueError(f"max_rate must be positive, not {max_rate!r}")
        self.channel = channel
        self.max_rate = max_rate
        self.interval = 1.0 / max_rate
        self.tolerance = self.interval / 2
        self.reply_patience = reply_patience
        self._clock = clock
        self._paused_until: datetime | None = None
        self._due = float("-inf")  # loop time the next send is due (GCRA's TAT)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def pause_left(self) -> float:
        """Seconds until the channel may send again (0 when it is not paused)."""
        if self._paused_until is None:
            return 0.0
        return max(0.0, (self._paused_until - self._clock()).total_seconds())

    def pause(self, seconds: float, *, reason: str) -> None:
        """Send nothing on this channel for ``seconds`` (a 429's ``retry_after``): waiting bulk
        sends give up their turn at once, waiting replies wait. Logs one warning."""
        until = self._clock() + timedelta(seconds=max(seconds, 0.0))
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
        log.warning(
            "%s: rate limited (%s); nothing goes out on this channel for %.1f s",
            self.channel,
            reason,
            self.pause_left(),
        )
        for priority, _, future in self._waiting:
            if priority == Priority.BULK and not future.done():
                future.set_exception(self._paused())
        if self._waiting:
            self._wake()

    def _paused(self) -> ChannelPaused:
        return ChannelPaused(f"{self.channel} is paused for {self.pause_left():.1f} s")

    async def acquire(self, priority: Priority = Priority.BULK) -> None:
        """Wait for the channel's next free slot; replies are served before bulk sends.

        Raises :class:`ChannelPaused` for a bulk send while the channel is paused (or when a
        pause starts while it waits), and for a reply when the pause is longer than the
        reply's patience.
        """
        left = self.pause_left()
        if left > 0 and (priority == Priority.BULK or left > self.reply_patience):
            raise self._paused()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        self._wake()
        asked = self._clock()
        try:
            await future  # cancelled: the entry is dropped when it reaches the top
        finally:
            waits = _budget_waits.get()
            if waits is not None:
                waits.seconds += (self._clock() - asked).total_seconds()

    def _wake(self) -> None:
        """Hand out every slot that is free now; set a timer for the next one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        while True:
            while self._waiting and self._waiting[0][2].done():
                heapq.heappop(self._waiting)
            if not self._waiting:
                return
            now = loop.time()
            ready_at = max(self._due - self.tolerance, now + self.pause_left())
            if ready_at > now:
                self._timer = loop.call_at(ready_at, self._wake)
                return
            heapq.heappop(self._waiting)[2].set_result(None)
            self._due = max(self._due, now) + self.interval


@dataclass
class BudgetWaits:
    """The seconds one task spent waiting for sending slots (see :func:`count_budget_waits`)."""

    seconds: float = 0.0


_budget_waits: contextvars.ContextVar[BudgetWaits | None] = contextvars.ContextVar(
    "budget_waits", default=None
)


def count_budget_waits() -> BudgetWaits:
    """From now on, the current task adds its waits for sending slots to the returned box: what
    a delivery took, less them, is its round trip (the measure of :class:`DeliveryWindow`)."""
    waits = BudgetWaits()
    _budget_waits.set(waits)
    return waits


class WindowBroken(Exception):
    """The window will not open: the results of the messages in it cannot be recorded."""


class DeliveryWindow:
    """How many messages of one channel may be unconfirmed at once: started but not yet
    recorded as delivered. After a crash exactly those can be sent a second time, so the window
    is as small as the channel's rate allows: ``rate × seconds to confirm one`` (from start to
    record, less the waits for the channel's sending slots; smoothed), at least one and at most
    ``most`` (one by default, so that a crash repeats at most the one message in flight;
    ``MESSAGES_IN_FLIGHT`` sets more). Against a server that answers in a few milliseconds it
    stays at one; over a 200 ms round trip at 30 per second, ``most`` eight, it opens to seven.
    """

    SMOOTHING = 0.2  # weight of the newest measurement

    def __init__(self, rate: float, most: int) -> None:
        self._rate = rate
        self._most = max(1, most)
        self._open = 0
        self._seconds: float | None = None  # to confirm one message, smoothed
        self._changed = asyncio.Event()
        self._broken: BaseException | None = None

    @property
    def size(self) -> int:
        if self._seconds is None:
            return 1
        return max(1, min(self._most, math.ceil(self._rate * self._seconds)))

    @property
    def open(self) -> int:
        return self._open

    async def acquire(self) -> None:
        """Wait until one more message may be started; raises what :meth:`break_with` was
        given (the results cannot be recorded: no slot will come free)."""
        while self._broken is None and self._open >= self.size:
            self._changed.clear()
            await self._changed.wait()
        if self._broken is not None:
            raise WindowBroken(str(self._broken)) from self._broken
        self._open += 1

    def break_with(self, error: BaseException) -> None:
        self._broken = error
        self._changed.set()

    def mend(self) -> None:
        self._broken = None

    def release(self, seconds: float | None) -> None:
        """A message is confirmed after ``seconds`` (None: abandoned, nothing measured)."""
        self._open -= 1
        if seconds is not None:
            seconds = min(max(seconds, 0.0), 60.0)  # a clock set back or far ahead
            old = self._seconds
            self._seconds = seconds if old is None else old + self.SMOOTHING * (seconds - old)
        self._changed.set()
