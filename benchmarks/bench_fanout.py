"""Fan-out speed: a /thongbao-like broadcast to 2,000 and 10,000 people at Telegram's limit.

The real service (``build_service``: outbox sender, python-telegram-bot adapter, dialog core,
database) runs against the local fake Bot API server of the tests, which validates every request
and records when each message arrives. A broadcast is queued the way /thongbao queues it (one
outbox row per recipient, in one transaction), and while it goes out, people who never wrote
before send /huongdan at 10 %, 30 %, 50 %, 70 % and 90 % of it.

For each size it prints every figure beside its target, with the ratio:
- the sustained rate, first to last message (≥ 28.5 msg/s with TELEGRAM_MAX_RATE=30);
- the time to the first message, from the moment the broadcast is queued (< 0.5 s);
- messages lost and messages sent twice (0), counted per recipient at the server;
- the longest wait of a person who writes during the fan-out for the answer (< 1 s).

Run with ``make bench`` (after bench_core.py) or ``python benchmarks/bench_fanout.py
[--sizes 2000,10000] [--rate 30] [--database-url URL]``; a PostgreSQL URL must name a database
the benchmark may fill. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import Service, build_service, utc_now
from bot.config import Settings
from scheduler.outbox import queued_message
from storage import outbox

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the fake Bot API server lives with the tests
    sys.path.insert(0, str(REPO))
from benchmarks.ratios import met_ratio  # noqa: E402
from tests.fakes.telegram_bot_api import FakeTelegramBotApi  # noqa: E402

PLAN = REPO / "plans" / "thai-binh-2021-40-kh-ubnd.yaml"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
COORDINATOR = 500_001
FIRST_RECIPIENT = 10_000_001
FIRST_WRITER = 20_000_001
WRITERS_AT = (0.1, 0.3, 0.5, 0.7, 0.9)  # shares of the fan-out sent when someone writes
TEXT = "THÔNG BÁO của Sở LĐTBXH: đề nghị các đơn vị gửi báo cáo sơ kết 6 tháng trước 10/6."


@dataclass
class FanOut:
    """What one broadcast measured."""

    size: int
    rate: float
    queued_at: float = 0.0  # event-loop time the broadcast was asked for
    committed_at: float = 0.0  # ... and the time its rows were in the outbox
    first_at: float = 0.0
    last_at: float = 0.0
    per_recipient: Counter[int] = field(default_factory=Counter)
    reply_waits: list[float] = field(default_factory=list)

    @property
    def sustained(self) -> float:
        return (self.size - 1) / (self.last_at - self.first_at)

    @property
    def lost(self) -> int:
        return self.size - len(self.per_recipient)

    @property
    def duplicated(self) -> int:
        return sum(count - 1 for count in self.per_recipient.values())


class Arrivals:
    """Counts the broadcast's messages as the server accepts them (reading each call once)."""

    def __init__(self, server: FakeTelegramBotApi, recipients: range) -> None:
        self.server = server
        self.recipients = recipients
        self.times: list[float] = []
        self.per_recipient: Counter[int] = Counter()
        self._read = 0

    def count(self) -> int:
        calls = self.server.calls
        for call in calls[self._read :]:
            if call.method == "sendMessage" and call.chat_id in self.recipients:
                assert isinstance(call.chat_id, int)
                self.per_recipient[call.chat_id] += 1
                self.times.append(call.at)
        self._read = len(calls)
        return len(self.times)

    def everyone(self) -> bool:
        self.count()
        return len(self.per_recipient) == len(self.recipients)


async def writers_during(server: FakeTelegramBotApi, arrivals: Arrivals, size: int) -> list[float]:
    """Someone new writes /huongdan at each share of WRITERS_AT; returns how long each waited
    for the answer (to its arrival at the server)."""
    loop = asyncio.get_running_loop()
    waits = []
    for number, share in enumerate(WRITERS_AT):
        due = share * size
        await server.wait_until(lambda: arrivals.count() >= due, 3600)  # noqa: B023 (awaited here)
        writer = FIRST_WRITER + number
        asked_at = loop.time()
        server.user_sends_text(writer, "/huongdan", first_name=f"Người viết {number}")
        answer = await server.next_bot_message(writer, timeout=60)
        if "gặp lỗi" in answer.text:
            raise RuntimeError(f"the bot answered /huongdan with an error: {answer.text}")
        answered_at = min(c.at for c in server.calls_to("sendMessage") if c.chat_id == writer)
        waits.append(answered_at - asked_at)
    return waits


async def broadcast(service: Service, server: FakeTelegramBotApi, size: int) -> FanOut:
    """Queue a broadcast to ``size`` people and follow it until everyone has it."""
    recipients = range(FIRST_RECIPIENT, FIRST_RECIPIENT + size)
    for user_id in recipients:
        server.add_user(user_id)
    result = FanOut(size, service.settings.telegram_max_rate)
    arrivals = Arrivals(server, recipients)
    loop = asyncio.get_running_loop()
    result.queued_at = loop.time()
    now = utc_now()
    messages = [
        queued_message(
            key=f"thong-bao/bench-{size}-{time.time_ns()}/telegram:{user_id}",
            channel="telegram",
            chat_id=str(user_id),
            rule="thong-bao",
            text=TEXT,
            now=now,
        )
        for user_id in recipients
    ]
    assert await service.database.run(outbox.enqueue_outbox, messages) == size
    result.committed_at = loop.time()
    service.sender.wake()
    writers = asyncio.create_task(writers_during(server, arrivals, size))
    await server.wait_until(arrivals.everyone, size / 10 + 60, poll=0.2)
    result.reply_waits = await writers
    await asyncio.sleep(1.0)  # anything sent twice would arrive now
    arrivals.count()
    result.first_at, result.last_at = min(arrivals.times), max(arrivals.times)
    result.per_recipient = arrivals.per_recipient
    return result


async def run_one(size: int, rate: float, database_url: str | None) -> FanOut:
    with tempfile.TemporaryDirectory() as folder:
        async with FakeTelegramBotApi(token=TOKEN) as server:
            settings = Settings.for_tests(
                database_url=database_url or f"sqlite:///{folder}/bench.db",
                plan_file=PLAN,
                telegram_bot_token=TOKEN,
                telegram_api_base_url=server.base_url.removesuffix("/bot"),
                coordinator_telegram_ids=frozenset({COORDINATOR}),
                telegram_max_rate=rate,
            )
            service = await asyncio.to_thread(
                build_service, settings, hold_outside_office_hours=False, poll_timeout=10
            )
            await service.start()
            try:
                return await broadcast(service, server, size)
            finally:
                await service.stop()


def report(fan_out: FanOut, database: str) -> int:
    """Print the figures of one fan-out beside their targets; returns how many were missed."""
    rows = [
        ("sustained rate", fan_out.sustained, "msg/s", ">=", 0.95 * fan_out.rate),
        ("time to first message", fan_out.first_at - fan_out.queued_at, "s", "<", 0.5),
        ("lost", fan_out.lost, "", "=", 0),
        ("duplicated", fan_out.duplicated, "", "=", 0),
        ("longest wait for a reply", max(fan_out.reply_waits), "s", "<", 1.0),
    ]
    print(f"fan-out to {fan_out.size:,} ({database}, TELEGRAM_MAX_RATE={fan_out.rate:g})")
    missed = 0
    for name, value, unit, relation, target in rows:
        met = {">=": value >= target, "<": value < target, "=": value == target}[relation]
        missed += not met
        ratio = f"ratio {met_ratio(value, relation, target):5.2f}" if target else " " * 11
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(
            f"  {'ok    ' if met else 'MISSED'} {name:<26} {shown:>9} {unit:<6}"
            f" target {relation} {target:g} {unit:<6} {ratio}"
        )
    queued = fan_out.committed_at - fan_out.queued_at
    print(f"         the {fan_out.size:,} outbox rows were built and queued in {queued:.3f} s")
    waits = ", ".join(f"{wait:.3f}" for wait in fan_out.reply_waits)
    print(f"         replies during the fan-out took {waits} s")
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="recipients, comma separated")
    parser.add_argument("--rate", type=float, default=30.0, help="TELEGRAM_MAX_RATE")
    parser.add_argument("--database-url", help="default: a new SQLite file per size")
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as the command line sets it
    logging.basicConfig(level=logging.ERROR)
    database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
    missed = 0
    for size in (int(size) for size in args.sizes.split(",")):
        missed += report(asyncio.run(run_one(size, args.rate, args.database_url)), database)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
