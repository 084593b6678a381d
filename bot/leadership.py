"""Which instance runs: the service lock taken at start-up, hot standby on PostgreSQL, and the
one-line messages the operator sees about it (on the log and on the console).

On SQLite a second instance is refused (one machine, one file). On PostgreSQL ``nhacviec run``
stands by while another instance leads and takes over once that one is gone; an instance that
loses leadership stops its channels, sender and scheduler and stands by again, so a database
restart or failover needs no process supervisor to bring the service back.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from storage.database import Database
from storage.lock import (
    ServiceLock,
    ServiceLockHeld,
    acquire_service_lock,
    wait_for_service_lock,
)

log = logging.getLogger("nhacviec")

STANDING_BY = (
    "phiên bản này đang dự phòng: phiên bản {holder} đang chạy với cùng cơ sở dữ liệu{until}; "
    "sẽ tự tiếp quản trong vòng {seconds} giây khi phiên bản đó dừng"
)
TOOK_OVER = "phiên bản này đã tiếp quản (lượt {epoch}): khởi động các kênh, bộ gửi tin và lịch nhắc"
LOST = (
    "phiên bản này mất quyền điều phối — {reason}; đã dừng các kênh, bộ gửi tin và lịch nhắc, "
    "chuyển sang dự phòng"
)
HELD_SQLITE = (
    "một tiến trình nhacviec khác đang chạy với cùng cơ sở dữ liệu ({where}); "
    "hãy dừng tiến trình đó trước."
)
HELD_POSTGRES = (
    "phiên bản nhacviec {where} đang chạy với cùng cơ sở dữ liệu; hãy dừng phiên bản đó trước "
    "(còn `nhacviec run` thì tự chờ dự phòng)."
)


class StandbyCancelled(Exception):
    """The service was asked to stop while it stood by."""


def lock_held_message(held: ServiceLockHeld) -> str:
    """The one line for a database another instance holds (``migrate`` under a live service, a
    second ``run`` on SQLite)."""
    template = HELD_SQLITE if held.holder is None else HELD_POSTGRES
    return template.format(where=held.where)


class Standby:
    """How ``nhacviec run`` waits while another instance leads: it says so (log and console),
    once per leader, and says when it takes over. ``cancelled`` ends the wait."""

    def __init__(self, *, zone: ZoneInfo, lease: timedelta) -> None:
        self.zone = zone
        self.lease = lease
        self.cancelled = threading.Event()
        self._waited = False
        self._yield_first = False  # after losing leadership: let another standby go first

    def standing_by(self, held: ServiceLockHeld) -> None:
        until = held.holder.until if held.holder is not None else None
        shown = f", quyền điều phối đến {until.astimezone(self.zone):%H:%M:%S}" if until else ""
        seconds = int(self.lease.total_seconds()) + 1
        self._say(STANDING_BY.format(holder=held.where, until=shown, seconds=seconds))
        self._waited = True

    def took_over(self, lock: ServiceLock) -> None:
        leadership = lock.leadership
        if self._waited and leadership is not None:
            self._say(TOOK_OVER.format(epoch=leadership.epoch or "đầu"))
        self._waited = False

    def lost(self, reason: str) -> None:
        self._say(LOST.format(reason=reason))
        self._waited = True
        self._yield_first = True

    def yield_first(self) -> bool:
        """After losing leadership, wait one lease before competing again, so that another
        standby (whose connection is not the one in trouble) takes over; a lone instance
        takes over again after that. False when asked to stop meanwhile."""
        if not self._yield_first:
            return True
        self._yield_first = False
        return not self.cancelled.wait(self.lease.total_seconds())

    @staticmethod
    def _say(message: str) -> None:
        log.warning(message)
        print(f"nhacviec: {message}", flush=True)


def take_service_lock(
    database: Database, *, lease: timedelta, standby: Standby | None = None
) -> ServiceLock:
    """Lead ``database`` now (raises :class:`ServiceLockHeld` when another instance does), or,
    with ``standby``, once the instance that leads is gone (raises :class:`StandbyCancelled`
    if asked to stop first)."""
    if standby is None:
        return acquire_service_lock(database, lease=lease)
    if not standby.yield_first():
        raise StandbyCancelled
    lock = wait_for_service_lock(
        database, cancelled=standby.cancelled, standing_by=standby.standing_by, lease=lease
    )
    if lock is None:
        raise StandbyCancelled
    standby.took_over(lock)
    return lock
