"""Retrying a reply to someone who is waiting in the chat.

Outbox messages have their own, durable retries (``scheduler.outbox``). A reply is different:
the user's action is already saved when it goes out, so a rate limit or a server hiccup is
retried a few times, piece by piece, rather than telling the user to do it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
LONGEST_WAIT = 10.0  # seconds; a longer retry_after is not worth keeping the user waiting


async def retrying(
    send: Callable[[], Awaitable[T]],
    *,
    retry_delay: Callable[[Exception], float | None],
    attempts: int = ATTEMPTS,
) -> T:
    """Run ``send``; on an error ``retry_delay`` maps to a delay, try again (others raise)."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except Exception as exc:
            delay = retry_delay(exc)
            if delay is None or attempt == attempts or delay > LONGEST_WAIT:
                raise
            log.info("reply failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
