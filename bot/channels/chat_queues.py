"""Incoming updates of different chats handled at once, those of one chat one after the other.

A person's answer is never handled before the question it answers, and one slow update (a file
being read, a workbook being written) holds up only its own chat. Each channel gives its own
kind of update and says which chat it belongs to.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

CONCURRENCY = 16  # updates handled at once (of different chats)

Item = TypeVar("Item")


class ChatQueues(Generic[Item]):
    """Handles updates of different chats at once (at most ``concurrency`` at a time), those
    of one chat in the order given; ``on_done`` hears of each update once it is handled."""

    def __init__(
        self,
        handle: Callable[[Item], Awaitable[None]],
        *,
        chat_of: Callable[[Item], Hashable],
        concurrency: int = CONCURRENCY,
        on_done: Callable[[Item], None] = lambda item: None,
    ) -> None:
        self._handle, self._chat_of, self._on_done = handle, chat_of, on_done
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[Hashable, deque[Item]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._ready = 0  # chats whose next update waits for a free slot
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def waiting(self) -> int:
        """Updates given and not yet handled (those being handled included)."""
        return sum(len(queue) for queue in self._queues.values())

    @property
    def ready(self) -> int:
        """Chats whose next update could start now but waits for a free slot."""
        return self._ready

    def put(self, item: Item) -> None:
        """Handle ``item`` after the earlier updates of its chat."""
        chat = self._chat_of(item)
        queue = self._queues.get(chat)
        if queue is not None:  # its chat's worker is running: it takes it in turn
            queue.append(item)
            return
        self._queues[chat] = deque([item])
        self._idle.clear()
        worker = asyncio.create_task(self._work(chat), name=f"chat {chat}")
        self._workers.add(worker)
        worker.add_done_callback(self._worker_ended)

    def _worker_ended(self, worker: asyncio.Task[None]) -> None:
        self._workers.discard(worker)
        if not self._workers:
            self._idle.set()

    async def _work(self, chat: Hashable) -> None:
        """Handle the chat's updates one by one; the worker ends (and the queue goes) once
        the chat has nothing more."""
        queue = self._queues[chat]
        while queue:
            item = queue[0]
            try:
                await self._handle_in_slot(item)
            except Exception:  # the handler reports its own errors: this is a last resort
                log.exception("an update of chat %s was not handled", chat)
            except BaseException:  # stopped: this one and the rest stay unhandled
                del self._queues[chat]
                raise
            queue.popleft()
            if not queue:
                del self._queues[chat]
            self._on_done(item)

    async def _handle_in_slot(self, item: Item) -> None:
        self._ready += 1
        try:
            await self._slots.acquire()
        finally:
            self._ready -= 1
        try:
            await self._handle(item)
        finally:
            self._slots.release()

    async def idle(self) -> None:
        """Return once every update given so far is handled."""
        await self._idle.wait()

    async def drain(self, within: float) -> bool:
        """Wait until every update given is handled, at most ``within`` seconds; then stop
        whatever still runs. True when everything was handled."""
        if not self._workers:
            return True
        _, unfinished = await asyncio.wait(set(self._workers), timeout=within)
        for worker in unfinished:
            worker.cancel()
        if unfinished:
            await asyncio.wait(unfinished)
        return not unfinished
