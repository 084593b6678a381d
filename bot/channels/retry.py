"""Sending through a channel's budget: replies (retried a few times) and outbox messages.

Every API call that sends something takes a slot of the channel's
:class:`~scheduler.pacing.SendingBudget` first, so the channel's rate limit is applied once, to
replies and outbox alike, and a reply takes the next free slot ahead of the outbox.

Outbox messages have their own, durable retries (``scheduler.outbox``). A reply is different:
the user's action is already saved when it goes out, so a rate limit or a server hiccup is
retried a few times, piece by piece, rather than telling the user to do it again. A rate limit
met by a reply pauses the whole channel, as one met by the outbox does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from scheduler.messenger import DeliveryError
from scheduler.pacing import Priority, SendingBudget

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
LONGEST_WAIT = 10.0  # seconds; a longer retry_after is not worth keeping the user waiting


async def retrying(
    send: Callable[[], Awaitable[T]],
    *,
    budget: SendingBudget,
    retry_delay: Callable[[Exception], float | None],
    rate_limit: Callable[[Exception], float | None] = lambda exc: None,
    attempts: int = ATTEMPTS,
) -> T:
    """Run ``send`` in the budget's next reply slot; on an error that ``retry_delay`` maps to a
    delay, try again after it (others raise). ``rate_limit`` maps a 429 to its retry_after,
    which pauses the channel."""
    for attempt in range(1, attempts + 1):
        await budget.acquire(Priority.REPLY)
        try:
            return await send()
        except Exception as exc:
            pause = rate_limit(exc)
            if pause is not None:
                budget.pause(pause, reason="429 on a reply")
            delay = retry_delay(exc)
            if delay is None or attempt == attempts or delay > LONGEST_WAIT:
                raise
            log.info("reply failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def deliver_pieces(
    budget: SendingBudget,
    sends: Sequence[Callable[[], Awaitable[object]]],
    *,
    first: int,
    classify: Callable[[Exception], DeliveryError | None],
) -> None:
    """Send an outbox message's pieces from ``first`` on, each in a bulk slot of the budget.

    A failure is raised as the :class:`DeliveryError` that ``classify`` makes of it (others
    raise as they are), telling how many pieces went out before it.
    """
    for index in range(first, len(sends)):
        try:
            await budget.acquire(Priority.BULK)
            await sends[index]()
        except DeliveryError as exc:  # the channel paused (ChannelPaused)
            exc.pieces_sent = index
            raise
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            error.pieces_sent = index
            raise error from exc
