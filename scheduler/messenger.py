"""What the scheduler needs from a channel: deliver one message to one chat.

Each channel adapter (Telegram, Zalo, console) implements :class:`Messenger`; the scheduler
never imports a channel. Delivery failures are told apart by exception type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from scheduler.messages import OutgoingMessage

if TYPE_CHECKING:
    from scheduler.pacing import SendingBudget


class DeliveryError(Exception):
    """A message could not be delivered (``pieces_sent`` of its pieces were, before the error)."""

    def __init__(self, message: str, *, pieces_sent: int = 0) -> None:
        super().__init__(message)
        self.pieces_sent = pieces_sent


class TransientDeliveryError(DeliveryError):
    """Worth retrying later (rate limit, server error, network)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, pieces_sent: int = 0
    ) -> None:
        super().__init__(message, pieces_sent=pieces_sent)
        self.retry_after = retry_after


class BotUnauthorized(TransientDeliveryError):
    """The platform refuses the bot's token (revoked, mistyped). Not the message's fault: it waits
    for a new token however long that takes, without using up its attempts."""


class RecipientUnreachable(DeliveryError):
    """Final: the user blocked the bot or the chat is gone."""


class PermanentDeliveryError(DeliveryError):
    """Final: the platform rejected the message itself."""


class ChannelPaused(DeliveryError):
    """The channel is paused after a rate limit: this send did not go out (``pieces_sent`` of
    the message did, before the pause). Not an attempt: the message waits for the pause's end."""


class Messenger(Protocol):
    """Delivers messages on one channel."""

    @property
    def channel(self) -> str: ...

    @property
    def budget(self) -> SendingBudget:
        """The channel's sending slots, shared with its replies: :meth:`deliver` takes one
        (``Priority.BULK``) for each API call it makes."""
        ...

    async def deliver(self, chat_id: str, message: OutgoingMessage) -> None:
        """Send ``message`` to ``chat_id`` or raise a :class:`DeliveryError`.

        A message too long for one call goes out in pieces, from ``message.pieces_sent`` on; a
        failure says in ``pieces_sent`` how many were delivered before it.
        """
        ...
