"""The dialog core as the composition root wires it, for tests that drive it without a network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.app import dialog_routers
from bot.channels.console import console_profile
from bot.channels.telegram import telegram_profile
from bot.channels.zalo import zalo_profile
from bot.dialog.core import DialogCore
from bot.dialog.types import ChannelProfile, DashboardAccess, DialogSettings
from scheduler.reminders import CoordinatorAddress

TELEGRAM_USERNAME = "nhacviec_bot"


def profiles(
    channels: Sequence[str], *, telegram_username: str | None = TELEGRAM_USERNAME
) -> dict[str, ChannelProfile]:
    """The profiles the real adapters give, for the named channels."""
    known = {
        "telegram": lambda: telegram_profile(lambda: telegram_username),
        "zalo": lambda: zalo_profile(lambda: None),
        "console": console_profile,
    }
    return {name: known[name]() for name in channels}


def dialog_core(
    *,
    clock: Callable[[], datetime],
    coordinators: Sequence[CoordinatorAddress] = (),
    channels: Sequence[str] = ("telegram", "zalo"),
    dashboard: DashboardAccess | None = None,
) -> DialogCore:
    return DialogCore(
        DialogSettings(
            coordinators=frozenset((a.channel, a.chat_id) for a in coordinators),
            coordinator_addresses=tuple(coordinators),
            clock=clock,
            channels=profiles(channels),
            dashboard=dashboard,
        ),
        dialog_routers(),
    )
