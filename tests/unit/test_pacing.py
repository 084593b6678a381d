"""A channel's sending budget: spacing, replies before bulk sends, pauses after a 429.

Slots are spaced on the event loop's clock, so these tests use fast rates and wait on the
grants themselves (bounded), never on a fixed sleep; pauses run on a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.messenger import ChannelPaused
from scheduler.pacing import DeliveryWindow, Priority, SendingBudget, WindowBroken
from tests.fakes.clock import FakeClock

START = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


class Grants:
    """Acquirers of one budget, recording in which order and when they got their slots."""

    def __init__(self, budget: SendingBudget) -> None:
        self.budget = budget
        self.order: list[str] = []
        self.times: list[float] = []
        self.refused: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._granted = asyncio.Condition()

    def ask(self, name: str, priority: Priority = Priority.BULK) -> None:
        self.tasks.append(asyncio.create_task(self._acquire(name, priority)))

    async def _acquire(self, name: str, priority: Priority) -> None:
        try:
            await self.budget.acquire(priority)
        except ChannelPaused:
            self.refused.append(name)
            return
        self.order.append(name)
        self.times.append(asyncio.get_running_loop().time())
        async with self._granted:
            self._granted.notify_all()

    async def until(self, count: int, within: float = 2.0) -> None:
        """Wait (at most ``within`` seconds) until ``count`` slots were handed out."""
        async with asyncio.timeout(within), self._granted:
            await self._granted.wait_for(lambda: len(self.order) >= count)

    async def settle(self, within: float = 2.0) -> None:
        async with asyncio.timeout(within):
            await asyncio.gather(*self.tasks)


async def test_slots_are_spaced_by_the_rate_with_half_a_slot_of_tolerance() -> None:
    budget = SendingBudget("telegram", 100)
    grants = Grants(budget)
    started = asyncio.get_running_loop().time()
    for n in range(8):
        grants.ask(f"b{n}")
    await grants.settle()

    assert grants.order == [f"b{n}" for n in range(8)]  # in the order they asked
    assert grants.times[-1] - started >= 7 * budget.interval - budget.tolerance - 0.001


async def test_a_reply_takes_the_next_free_slot_ahead_of_every_waiting_bulk_send() -> None:
    grants = Grants(SendingBudget("telegram", 10))
    for n in range(6):
        grants.ask(f"b{n}")
    await grants.until(2)  # the fan-out is under way, four bulk sends wait

    grants.ask("reply", Priority.REPLY)
    await grants.settle()

    assert grants.order.index("reply") == 2  # the next slot after the ones already given


async def test_a_pause_stops_bulk_sends_at_once_and_a_reply_waits_for_its_end() -> None:
    clock = FakeClock(START)
    budget = SendingBudget("telegram", 1000, clock=clock)
    grants = Grants(budget)
    budget.pause(0.05, reason="429")
    loop = asyncio.get_running_loop()
    paused_at = loop.time()

    grants.ask("bulk")
    grants.ask("reply", Priority.REPLY)
    await asyncio.sleep(0)  # both have asked
    assert grants.refused == ["bulk"]
    clock.advance(timedelta(seconds=0.05))  # the pause ends (the budget's timer notices)
    await grants.until(1)

    assert grants.order == ["reply"]
    assert grants.times[0] - paused_at >= 0.04


async def test_bulk_sends_waiting_for_a_slot_give_it_up_when_the_channel_pauses() -> None:
    clock = FakeClock(START)
    budget = SendingBudget("zalo", 20, clock=clock)
    grants = Grants(budget)
    for n in range(4):
        grants.ask(f"b{n}")
    await grants.until(1)

    budget.pause(30, reason="429")
    await grants.settle()

    assert grants.order == ["b0"]
    assert sorted(grants.refused) == ["b1", "b2", "b3"]
    with pytest.raises(ChannelPaused):
        await budget.acquire(Priority.BULK)
    clock.advance(timedelta(seconds=30))
    await asyncio.wait_for(budget.acquire(Priority.BULK), timeout=1)


async def test_a_reply_is_not_kept_waiting_through_a_long_pause() -> None:
    budget = SendingBudget("telegram", 30, clock=FakeClock(START), reply_patience=10)
    budget.pause(11, reason="429")
    with pytest.raises(ChannelPaused):
        await budget.acquire(Priority.REPLY)


async def test_each_pause_is_one_warning_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(START)
    budget = SendingBudget("telegram", 30, clock=clock)
    with caplog.at_level(logging.INFO):
        budget.pause(7, reason="429 on outbox row 12")
        budget.pause(3, reason="429 on a reply")  # a shorter one does not shorten the pause

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "telegram: rate limited (429 on outbox row 12); nothing goes out on this channel for 7.0 s",
        "telegram: rate limited (429 on a reply); nothing goes out on this channel for 7.0 s",
    ]
    assert all(r.exc_info is None for r in warnings)
    assert budget.pause_left() == 7
    clock.advance(timedelta(seconds=7))
    assert budget.pause_left() == 0


async def test_a_cancelled_waiter_does_not_hold_up_the_others() -> None:
    grants = Grants(SendingBudget("telegram", 50))
    grants.ask("b0")
    grants.ask("gone")
    grants.ask("b1")
    await grants.until(1)
    grants.tasks[1].cancel()

    await grants.until(2)

    assert grants.order == ["b0", "b1"]


def test_a_rate_must_be_positive() -> None:
    for rate in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="max_rate must be positive"):
            SendingBudget("telegram", rate)


def _measured(window: DeliveryWindow, *seconds: float) -> DeliveryWindow:
    for value in seconds:
        window._open += 1  # as acquire() would, without an event loop
        window.release(value)
    return window


def test_the_delivery_window_opens_as_far_as_rate_times_round_trip() -> None:
    assert DeliveryWindow(30, 8).size == 1  # nothing measured yet: one at a time
    assert _measured(DeliveryWindow(30, 8), 0.005).size == 1  # a local server
    assert _measured(DeliveryWindow(30, 8), 0.2).size == 6  # 200 ms away at 30/s
    assert _measured(DeliveryWindow(30, 8), 2.0).size == 8  # never past its bound
    assert _measured(DeliveryWindow(30, 8), -5.0).size == 1  # a clock set back
    smoothed = _measured(DeliveryWindow(30, 8), 0.2, 0.0)  # one quick answer: 0.16 s
    assert smoothed.size == 5


async def test_a_broken_window_wakes_the_waiting_delivery_with_the_error() -> None:
    window = DeliveryWindow(30, 1)
    await window.acquire()
    waiting = asyncio.create_task(window.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()
    window.break_with(RuntimeError("the database is away"))
    with pytest.raises(WindowBroken, match="database is away"):
        await waiting
    window.mend()
    window.release(0.001)
    await asyncio.wait_for(window.acquire(), timeout=1)
    assert window.open == 1
