"""Telegram updates, fetched and handled: several chats at once, each chat in order, and an
update confirmed to Telegram only once it is handled.

python-telegram-bot's own Updater confirms an update (the next getUpdates' ``offset``) as soon
as it has put it in its queue, so an update fetched but not yet handled is lost with the
process; and its Application handles either one update at a time or any number at once, in no
order within a chat. Here instead:

- :class:`~bot.channels.chat_queues.ChatQueues` handles the updates of different chats at once
  (at most ``concurrency`` at a time) and the updates of one chat one after the other, in the
  order they came: a person's answer is never handled before the question it answers, and one
  slow update holds up only its own chat.
- :class:`UpdatePoller` asks for updates and confirms only those handled: the offset it sends
  never passes an update still waiting or being handled. A crash leaves those with Telegram,
  which delivers them again; those that were handled already are recognised by their id
  (:func:`storage.inbox.claim_handling`) and not handled twice.

While updates are being handled, getUpdates answers at once with them again (they are not
confirmed), so the poller then asks at most every :data:`BUSY_POLL_INTERVAL` seconds, or as soon
as the oldest one is done, skipping those it has; a new update then waits that long at most.
And it does not ask while a full round of updates (``concurrency`` chats' worth) waits for a
free slot: a new update could not start before them anyway, and each answer repeats every
update not yet confirmed (up to 100), which costs more to read than handling one. Of each
answer only the updates not fetched before are read as :class:`Update` objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

from bot.channels.chat_queues import CONCURRENCY, ChatQueues

log = logging.getLogger(__name__)

BUSY_POLL_INTERVAL = 0.1  # seconds between getUpdates while updates are being handled
BUSY_POLL_SPACING = 0.05  # ... at least (each answer repeats the updates not yet handled)
WINDOW = 100  # updates fetched but not yet handled, at most (getUpdates returns up to 100)
REQUEST_SENT_WITHIN = 0.2  # seconds: a request begun this long ago has reached the server
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after failed getUpdates, one after the other
READ_TIMEOUT = 5.0  # seconds to wait for an answer beyond the long poll's (as Bot.get_updates)

UpdateHandler = Callable[[Update], Awaitable[None]]


def retry_delay(exc: Exception, failures: int) -> float:
    """How long to wait before asking again after ``failures`` failed getUpdates in a row."""
    delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
    if isinstance(exc, RetryAfter):
        after = exc.retry_after
        return max(delay, after.total_seconds() if isinstance(after, timedelta) else after)
    return delay


def chat_of(update: Update) -> int | None:
    """The chat an update belongs to (a button's chat, a message's chat), else its sender."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class UpdatePoller:
    """Long polling that confirms an update only once it is handled (see the module)."""

    def __init__(
        self,
        bot: Bot,
        handle: UpdateHandler,
        *,
        timeout: int,
        allowed_updates: Sequence[str],
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.bot = bot
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.concurrency = concurrency
        self.queues = ChatQueues(
            handle, chat_of=chat_of, concurrency=concurrency, on_done=self._handled
        )
        self._unconfirmed: deque[int] = deque()  # update ids fetched, in order
        self._handled_ids: set[int] = set()  # ... of which handled
        self._last_fetched = -1
        self._confirmed_to = 0  # the offset Telegram last answered
        self._progress = asyncio.Event()
        self._stopping = False
        self._asked_at = 0.0  # when getUpdates was last called (loop time)
        self._long_poll_since: float | None = None  # when the long poll under way began
        self._task: asyncio.Task[None] | None = None

    @property
    def offset(self) -> int:
        """The offset to send: past every update handled, up to the oldest one not handled."""
        if self._unconfirmed:
            return self._unconfirmed[0]
        return self._last_fetched + 1 if self._last_fetched >= 0 else 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram getUpdates")

    async def stop(self, within: float = 10.0) -> None:
        """Stop asking; let the updates fetched be handled (``within`` seconds at most); then
        confirm those handled, so that the next start does not get them again."""
        if self._task is not None:
            await self._stop_asking(self._task)
            self._task = None
        if not await self.queues.drain(within):
            log.warning("Telegram updates still being handled at stop: delivered again later")
        if self.offset > self._confirmed_to:
            try:
                await self.bot.get_updates(offset=self.offset, timeout=0, limit=1)
            except TelegramError as exc:
                log.warning("could not confirm the last Telegram updates (%s): sent again", exc)

    async def _stop_asking(self, task: asyncio.Task[None]) -> None:
        """End the polling task: a quick getUpdates is let finish, a long poll cut short, but
        not while its request may still be on its way (the server would see it broken off)."""
        self._stopping = True
        self._progress.set()
        loop = asyncio.get_running_loop()
        if self._long_poll_since is not None:
            await asyncio.sleep(max(0.0, self._long_poll_since + REQUEST_SENT_WITHIN - loop.time()))
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=REQUEST_SENT_WITHIN + 5)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _handled(self, update: Update) -> None:
        self._handled_ids.add(update.update_id)
        while self._unconfirmed and self._unconfirmed[0] in self._handled_ids:
            self._handled_ids.discard(self._unconfirmed.popleft())
            self._progress.set()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            busy = bool(self._unconfirmed)
            try:
                updates = await self._fetch(busy)
            except Exception as exc:  # whatever it was: ask again later
                if self._stopping:
                    return
                delay = retry_delay(exc, failures)
                failures += 1
                log.warning("getUpdates failed (%s); asking again in %g s", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            new = [update for update in updates if update.update_id > self._last_fetched]
            for update in new:
                self._last_fetched = update.update_id
                self._unconfirmed.append(update.update_id)
                self.queues.put(update)
            if busy and not new:
                await self._wait_for_progress()
            while self._unconfirmed and self.queues.ready >= self.concurrency:
                if self._stopping:  # a full round waits for slots: nothing new could start
                    return
                await self._wait_for_progress()

    async def _fetch(self, busy: bool) -> tuple[Update, ...]:
        """The next updates; while some are being handled, without waiting for new ones (the
        unconfirmed ones come back at once anyway)."""
        while len(self._unconfirmed) >= WINDOW:  # the oldest ones must be handled first
            if self._stopping:
                return ()
            await self._wait_for_progress()
        offset = self.offset
        self._progress.clear()
        self._asked_at = asyncio.get_running_loop().time()
        if not busy:
            self._long_poll_since = asyncio.get_running_loop().time()
        try:
            timeout = 0 if busy else self.timeout
            # Bot.get_updates less its reading of every update: each answer repeats those not
            # confirmed yet (up to 100), and only the new ones are read (see _new_updates).
            answer = await self.bot._post(
                "getUpdates",
                {"offset": offset, "timeout": timeout, "allowed_updates": self.allowed_updates},
                read_timeout=READ_TIMEOUT + timeout,
            )
        finally:
            self._long_poll_since = None
        self._confirmed_to = offset  # known only once answered: a call cut short may not have
        return self._new_updates(answer)

    def _new_updates(self, answer: object) -> tuple[Update, ...]:
        """The updates of a getUpdates answer not fetched before, read."""
        if not isinstance(answer, list):
            raise TelegramError(f"getUpdates answered {type(answer).__name__}, not a list")
        return tuple(
            Update.de_json(data, self.bot)
            for data in answer
            if isinstance(data, dict) and data.get("update_id", -1) > self._last_fetched
        )

    async def _wait_for_progress(self) -> None:
        """BUSY_POLL_INTERVAL after the last getUpdates; sooner if the oldest update was handled
        and that long has passed since."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), BUSY_POLL_INTERVAL)
        await asyncio.sleep(max(0.0, self._asked_at + BUSY_POLL_SPACING - loop.time()))
