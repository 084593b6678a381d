"""Inbound speed: how many updates a second the service handles, beside a bare echo bot.

Both bots run as their own processes against one local fake Bot API server (the tests'; it
validates every request), so that the CPU each uses is its own:
- a bare python-telegram-bot echo bot (``Application.run_polling``, one handler that answers
  every text with itself);
- the real service (``nhacviec run``) on a fresh database with the seed plan and a crowd of
  registered focal points, with the sending limiter lifted (TELEGRAM_MAX_RATE=1000).

For each bot it measures, over the same work:
- throughput: USERS people each send MESSAGES commands at once (/huongdan to the service, the
  same text to the echo bot); updates per second from the first sent to the last answered, and
  the bot's CPU time (user + system, from /proc) per update;
- p95 reply latency: a few people in a closed loop (ask, wait for the answer, ask again);
- start-up time (process start to its first getUpdates) and idle RSS, for information.
And for the service only, a reply within 1 s for others while one chat's update is slow: the
coordinator's document whose download from the Bot API takes SLOW seconds, and /xuat.

Targets (exit status 1 when one is missed): service/echo throughput ≥ 0.5; p95 latency < 1 s;
the longest wait of the others during a slow update < 1 s.

Run with ``make bench`` or ``python benchmarks/bench_inbound.py [--users 40] [--messages 20]
[--backend sqlite|postgresql]`` (PostgreSQL: TEST_DATABASE_URL names a database in which the
benchmark makes its own schema).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the fake Bot API server and the crowd live with the tests
    sys.path.insert(0, str(REPO))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("PTB_TIMEDELTA", "true")

from aiohttp import web  # noqa: E402

from benchmarks.ratios import met_ratio  # noqa: E402
from tests.e2e.instances import (  # noqa: E402
    COORDINATOR_ID,
    Instance,
    prepare,
    service_environment,
    shared_database,
)
from tests.fakes.telegram_bot_api import DEFAULT_TOKEN, FakeTelegramBotApi  # noqa: E402

LIFTED_RATE = "1000"  # the most the settings accept
LATENCY_USERS = 4
LATENCY_SECONDS = 4.0
SLOW_DOWNLOAD = 3.0  # seconds the coordinator's document takes to download
OTHERS_DURING_SLOW = 5
TICK = os.sysconf("SC_CLK_TCK")
ECHO_FIRST_USER = 40_000_001


class SlowFilesBotApi(FakeTelegramBotApi):
    """The fake Bot API whose file downloads take ``download_delay`` seconds when set."""

    download_delay = 0.0

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.download_delay:
            await asyncio.sleep(self.download_delay)
        return await super()._handle_file(request)


class Replies:
    """The bot's sendMessage/sendDocument calls to a set of chats, read once each."""

    def __init__(self, server: FakeTelegramBotApi) -> None:
        self.server = server
        self._read = 0
        self.times: dict[int, list[float]] = {}

    def count(self) -> int:
        calls = self.server.calls
        for call in calls[self._read :]:
            if call.method in ("sendMessage", "sendDocument") and isinstance(call.chat_id, int):
                self.times.setdefault(call.chat_id, []).append(call.at)
        self._read = len(calls)
        return sum(len(times) for times in self.times.values())

    def of(self, chat_id: int) -> list[float]:
        self.count()
        return self.times.get(chat_id, [])

    async def wait_for(self, chat_id: int, number: int, within: float = 60.0) -> float:
        """The time of the ``number``-th reply to ``chat_id`` (1 = the first)."""
        await self.server.wait_until(lambda: len(self.of(chat_id)) >= number, within, poll=0.01)
        return self.of(chat_id)[number - 1]


@dataclass
class Figures:
    """What one bot measured."""

    name: str
    startup: float = 0.0
    idle_rss_mb: float = 0.0
    updates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    slow_waits: dict[str, list[float]] = field(default_factory=dict)
    slow_took: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.updates

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def started(server: FakeTelegramBotApi, instance: Instance, figures: Figures) -> None:
    """Wait for the bot's first getUpdates; note the start-up time and, after a second of
    idling, the RSS."""
    loop = asyncio.get_running_loop()
    began = loop.time()

    def polling() -> bool:
        if instance.process.returncode is not None:
            raise RuntimeError(f"{instance.name} ended:\n{instance.output}")
        return server._poll_generation > 0  # a getUpdates arrived (calls lists it once answered)

    await server.wait_until(polling, 120, poll=0.01)
    figures.startup = loop.time() - began
    await asyncio.sleep(1.0)
    figures.idle_rss_mb = rss_mb(instance.process.pid)


async def throughput(
    server: FakeTelegramBotApi,
    pid: int,
    users: Sequence[int],
    messages: int,
    text: str,
    figures: Figures,
) -> None:
    """Everyone sends ``messages`` texts at once; wait for every answer."""
    replies = Replies(server)
    replies.count()
    replies.times.clear()
    loop = asyncio.get_running_loop()
    cpu_before, began = cpu_seconds(pid), loop.time()
    for _ in range(messages):
        for user in users:
            server.user_sends_text(user, text)
    total = messages * len(users)
    await server.wait_until(lambda: replies.count() >= total, 600, poll=0.05)
    figures.seconds = max(max(times) for times in replies.times.values()) - began
    figures.cpu_seconds = cpu_seconds(pid) - cpu_before
    figures.updates = total


async def closed_loop(server: FakeTelegramBotApi, users: Sequence[int], text: str) -> list[float]:
    """A few people each ask, wait for the answer, and ask again, for LATENCY_SECONDS."""
    replies = Replies(server)
    replies.count()
    loop = asyncio.get_running_loop()
    until = loop.time() + LATENCY_SECONDS
    latencies: list[float] = []

    async def person(user: int) -> None:
        answered = len(replies.of(user))
        while loop.time() < until:
            asked = loop.time()
            server.user_sends_text(user, text)
            answered += 1
            latencies.append(await replies.wait_for(user, answered) - asked)

    await asyncio.gather(*(person(user) for user in users))
    return latencies


async def others_during(
    server: FakeTelegramBotApi, start_slow: Callable[[], object], others: Sequence[int]
) -> tuple[list[float], float]:
    """Start a slow update, then others write; how long each of them waited for the answer,
    and how long the slow one took."""
    replies = Replies(server)
    loop = asyncio.get_running_loop()
    before = len(replies.of(COORDINATOR_ID))
    slow_began = loop.time()
    start_slow()
    await asyncio.sleep(0.3)  # the slow update is being handled
    waits = []
    for user in others:
        asked = loop.time()
        server.user_sends_text(user, "/huongdan")
        waits.append(await replies.wait_for(user, len(replies.of(user)) + 1) - asked)
    slow_done = await replies.wait_for(COORDINATOR_ID, before + 1, within=600)
    return waits, slow_done - slow_began


async def slow_updates(server: SlowFilesBotApi, others: Sequence[int], figures: Figures) -> None:
    """The coordinator's slow document, then /xuat; others write meanwhile."""
    server.download_delay = SLOW_DOWNLOAD
    plan_text = "KẾ HOẠCH\nThực hiện công tác bình đẳng giới năm 2026\n".encode()
    waits, took = await others_during(
        server,
        lambda: server.user_sends_document(COORDINATOR_ID, "ke-hoach.txt", plan_text, "text/plain"),
        others[:OTHERS_DURING_SLOW],
    )
    server.download_delay = 0.0
    figures.slow_waits["document downloaded slowly"] = waits
    figures.slow_took["document downloaded slowly"] = took
    waits, took = await others_during(
        server,
        lambda: server.user_sends_text(COORDINATOR_ID, "/xuat"),
        others[OTHERS_DURING_SLOW : 2 * OTHERS_DURING_SLOW],
    )
    figures.slow_waits["/xuat"] = waits
    figures.slow_took["/xuat"] = took


async def bench_echo(users: int, messages: int) -> Figures:
    figures = Figures("python-telegram-bot echo bot")
    async with SlowFilesBotApi(token=DEFAULT_TOKEN) as server:
        people = [ECHO_FIRST_USER + n for n in range(users)]
        for user in people:
            server.add_user(user)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--echo-bot",
            f"http://127.0.0.1:{server.port}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        instance = Instance("echo bot", process)
        try:
            await started(server, instance, figures)
            await throughput(server, process.pid, people, messages, "xin chào", figures)
            figures.latencies = await closed_loop(server, people[:LATENCY_USERS], "xin chào")
        finally:
            await instance.stop()
    return figures


async def bench_service(users: int, messages: int, backend: str) -> Figures:
    figures = Figures(f"nhacviec ({'PostgreSQL' if backend == 'postgresql' else 'SQLite'})")
    with tempfile.TemporaryDirectory() as folder, shared_database(backend, Path(folder)) as shared:
        plan_file, people = await asyncio.to_thread(
            prepare, shared, Path(folder), recipients=users + 2 * OTHERS_DURING_SLOW
        )
        async with SlowFilesBotApi(token=DEFAULT_TOKEN) as server:
            for user in [COORDINATOR_ID, *people]:
                server.add_user(user, first_name="Cán bộ")
            environment = service_environment(
                database_url=shared.url,
                plan_file=plan_file,
                api=server,
                lease_seconds=30,
                TELEGRAM_MAX_RATE=LIFTED_RATE,
                LOG_LEVEL="WARNING",
            )
            instance = await Instance.start("nhacviec", environment, Path(folder))
            try:
                await started(server, instance, figures)
                pid = instance.process.pid
                await throughput(server, pid, people[:users], messages, "/huongdan", figures)
                figures.latencies = await closed_loop(server, people[:LATENCY_USERS], "/huongdan")
                await slow_updates(server, people[users:], figures)
            finally:
                await instance.stop()
    return figures


def run_echo_bot(base_url: str) -> None:
    """The bare echo bot: python-telegram-bot's defaults, one handler."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await message.reply_text(message.text)

    application = (
        ApplicationBuilder()
        .token(DEFAULT_TOKEN)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(timeout=10, allowed_updates=[Update.MESSAGE])


def row(name: str, value: float, unit: str, relation: str, target: float) -> bool:
    met = {">=": value >= target, "<": value < target}[relation]
    print(
        f"  {'ok    ' if met else 'MISSED'} {name:<44} {value:9.3f} {unit:<10}"
        f" target {relation} {target:g} {unit:<10} ratio {met_ratio(value, relation, target):5.2f}"
    )
    return met


def info(name: str, value: float, unit: str, echo: float | None = None) -> None:
    beside = f"   (echo bot {echo:.3f}, ratio {value / echo:4.2f})" if echo else ""
    print(f"         {name:<44} {value:9.3f} {unit:<10}{beside}")


def report(service: Figures, echo: Figures, users: int, messages: int) -> int:
    """Print the figures beside their targets; returns how many were missed."""
    print(
        f"inbound: {users} people × {messages} messages at once, limiter lifted "
        f"(TELEGRAM_MAX_RATE={LIFTED_RATE})"
    )
    print(f"  {echo.name}: {echo.rate:.1f} updates/s, {echo.cpu_ms:.2f} ms CPU per update")
    print(f"  {service.name}: {service.rate:.1f} updates/s, {service.cpu_ms:.2f} ms CPU per update")
    results = [
        row("throughput, service / echo bot", service.rate / echo.rate, "×", ">=", 0.5),
        row("p95 reply latency (closed loop)", service.p95, "s", "<", 1.0),
    ]
    for what, waits in service.slow_waits.items():
        results.append(row(f"longest wait of others during {what}", max(waits), "s", "<", 1.0))
    info("updates per second", service.rate, "/s", echo.rate)
    info("CPU per update", service.cpu_ms, "ms", echo.cpu_ms)
    info("p95 reply latency", service.p95, "s", echo.p95)
    for what, took in service.slow_took.items():
        info(f"{what} took", took, "s")
    info("start-up to first getUpdates", service.startup, "s", echo.startup)
    info("idle RSS", service.idle_rss_mb, "MB", echo.idle_rss_mb)
    return sum(not met for met in results)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=40, help="people writing at once")
    parser.add_argument("--messages", type=int, default=20, help="messages each")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--echo-bot", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_bot:
        run_echo_bot(args.echo_bot)
        return 0
    if args.backend == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        print("TEST_DATABASE_URL is not set", file=sys.stderr)
        return 2
    echo = asyncio.run(bench_echo(args.users, args.messages))
    service = asyncio.run(bench_service(args.users, args.messages, args.backend))
    return 1 if report(service, echo, args.users, args.messages) else 0


if __name__ == "__main__":
    sys.exit(main())
