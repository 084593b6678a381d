"""``nhacviec run`` as separate processes sharing one database, each talking to a local fake
Telegram Bot API: started, killed, paused or cut off from the database at will, while the test
counts what every recipient received. Used by the standby and crash tests and by
``benchmarks/bench_crash.py``."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from storage import migrate
from storage.database import Database
from storage.lease import LOCK_CLASS
from storage.plan_loader import load_plan
from tests.conftest import (
    SEED_PLAN_FILE,
    TEST_DATABASE_URL,
    active_seed_file,
    active_seed_spec,
    drop_postgres_schema,
    postgres_schema_database,
)
from tests.fakes.telegram_bot_api import DEFAULT_TOKEN, FakeTelegramBotApi
from tests.fixtures.crowd import seed_crowd

REPO = Path(__file__).resolve().parents[2]
COORDINATOR_ID = 500_001
RUNNING = "nhacviec is running"
STANDING_BY = "phiên bản này đang dự phòng"
TOOK_OVER = "phiên bản này đã tiếp quản"
LOST = "phiên bản này mất quyền điều phối"
REMINDER_MARK = "NHẮC VIỆC"
BROADCAST_MARK = "📢 Thông báo của"
INHERITED_NOT = (
    "TELEGRAM_",
    "ZALO_",
    "COORDINATOR_",
    "DATABASE_URL",
    "TZ",
    "PLAN",
    "LEADER_",
    "CALENDAR_FILE",
    "LD_PRELOAD",
    "FAKETIME",
)
SEEDED_AT = datetime(2021, 3, 10, 2, 0, tzinfo=UTC)


@dataclass
class SharedDatabase:
    """The database the instances share: the URL they get, a Database for the test itself."""

    backend: str
    url: str
    database: Database
    schema: str | None = None

    def lease_holder(self) -> str | None:
        """The instance the lease names (PostgreSQL)."""
        with self.database.engine.connect() as connection:
            holder = connection.execute(sa.text("SELECT holder FROM service_leases")).scalar()
        return str(holder) if holder is not None else None


@contextmanager
def shared_database(backend: str, directory: Path) -> Iterator[SharedDatabase]:
    """A fresh SQLite file, or a fresh PostgreSQL schema named in the URL's ``options``."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'nhacviec.db'}"
        database = Database(url)
        try:
            yield SharedDatabase(backend, url, database)
        finally:
            database.dispose()
        return
    assert TEST_DATABASE_URL is not None
    database, schema = postgres_schema_database(TEST_DATABASE_URL)
    in_schema = sa.engine.make_url(TEST_DATABASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    url = in_schema.render_as_string(hide_password=False)
    try:
        yield SharedDatabase(backend, url, database, schema)
    finally:
        database.dispose()
        drop_postgres_schema(TEST_DATABASE_URL, schema)


def prepare(shared: SharedDatabase, directory: Path, *, recipients: int) -> tuple[Path, list[int]]:
    """Migrate, load the seed plan (active) and seed ``recipients`` focal points; returns the
    plan file the instances follow and the recipients' Telegram ids."""
    plan_file = active_seed_file(directory)
    spec = active_seed_spec()
    migrate.upgrade(shared.database)

    def fill(session: Session) -> list[int]:
        load_plan(session, spec, source_file=str(SEED_PLAN_FILE), now=SEEDED_AT)
        return seed_crowd(session, plan_code=spec.code, count=recipients, now=SEEDED_AT)

    return plan_file, shared.database.run_sync(fill)


def crowd_server(user_ids: Iterable[int]) -> FakeTelegramBotApi:
    """A fake Bot API (to start) that every recipient has written to before."""
    server = FakeTelegramBotApi(token=DEFAULT_TOKEN)
    for user_id in user_ids:
        server.add_user(user_id, first_name="Cán bộ")
    return server


def service_environment(
    *, database_url: str, plan_file: Path, api: FakeTelegramBotApi, lease_seconds: int, **extra: str
) -> dict[str, str]:
    """What ``nhacviec run`` gets: nothing of the developer's own settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_NOT)}
    environment.update(
        DATABASE_URL=database_url,
        PLAN_FILES=str(plan_file),
        PLANS_DIR=str(plan_file.parent),
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{api.port}",
        COORDINATOR_TELEGRAM_IDS=str(COORDINATOR_ID),
        LEADER_LEASE_SECONDS=str(lease_seconds),
        TZ="Asia/Ho_Chi_Minh",
        PTB_TIMEDELTA="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONPATH=str(REPO),
        **extra,
    )
    return environment


class Instance:
    """One ``nhacviec run`` process; its output lines, with the loop time each arrived."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[tuple[float, str]] = []  # stdout and stderr as they come
        self.printed: list[str] = []  # stdout only: what is printed on the console
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(process.stdout, self.printed)),
            asyncio.create_task(self._read(process.stderr)),
        ]

    @classmethod
    async def start(cls, name: str, environment: dict[str, str], cwd: Path) -> Instance:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            cwd=cwd,
        )
        return cls(name, process)

    async def _read(self, stream: asyncio.StreamReader, also: list[str] | None = None) -> None:
        loop = asyncio.get_running_loop()
        while raw := await stream.readline():
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append((loop.time(), line))
            if also is not None:
                also.append(line)

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for _, line in self.lines)

    async def wait_for(self, text: str, *, within: float = 30.0, occurrence: int = 1) -> float:
        """Wait until ``text`` has appeared ``occurrence`` times; the loop time it last did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            seen = [at for at, line in self.lines if text in line]
            if len(seen) >= occurrence:
                return seen[occurrence - 1]
            if loop.time() > deadline or self.process.returncode is not None:
                raise AssertionError(f"{self.name}: no {text!r} (#{occurrence}):\n{self.output}")
            await asyncio.sleep(0.05)

    def signal(self, signum: signal.Signals) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM, and the exit status (SIGKILL if it does not end in time)."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=within)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            await self.process.wait()
            raise AssertionError(f"{self.name} did not stop:\n{self.output}") from None
        finally:
            await asyncio.gather(*self._readers)
        assert self.process.returncode is not None
        return self.process.returncode

    async def killed(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        self.signal(signal.SIGKILL)
        await self.process.wait()
        await asyncio.gather(*self._readers)


def deliveries(servers: Iterable[FakeTelegramBotApi], mark: str) -> Counter[int]:
    """How many messages containing ``mark`` each chat received, over every server."""
    counts: Counter[int] = Counter()
    for server in servers:
        counts.update(m.chat_id for m in server.bot_messages() if mark in m.text)
    return counts


@dataclass(frozen=True)
class Tally:
    recipients: int
    lost: int
    duplicated: int  # messages delivered more than once (a second copy counts one)

    @classmethod
    def of(cls, counts: Counter[int], user_ids: Iterable[int]) -> Tally:
        wanted = list(user_ids)
        return cls(
            recipients=len(wanted),
            lost=sum(1 for user in wanted if counts[user] == 0),
            duplicated=sum(max(counts[user] - 1, 0) for user in wanted),
        )


async def delivered_to_all(
    servers: list[FakeTelegramBotApi], mark: str, user_ids: list[int], *, stall: float = 30.0
) -> Tally:
    """Wait until every recipient has received ``mark``, or nothing more arrived for ``stall``
    seconds (the machine may be slow: progress, not a fixed time, says when to give up)."""
    loop = asyncio.get_running_loop()
    last_total, last_change = -1, loop.time()
    while True:
        counts = deliveries(servers, mark)
        tally = Tally.of(counts, user_ids)
        if tally.lost == 0:
            return tally
        if counts.total() != last_total:
            last_total, last_change = counts.total(), loop.time()
        elif loop.time() - last_change > stall:
            return tally
        await asyncio.sleep(0.2)


def lock_backend_pid(shared: SharedDatabase) -> int | None:
    """The PostgreSQL backend holding the service's advisory lock in this schema (pg_locks
    shows the two keys as unsigned: the schema's CRC-32 as it is)."""
    with shared.database.engine.connect() as connection:
        pid = connection.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :class AND objid = :object AND objsubid = 2"
            ),
            {"class": LOCK_CLASS, "object": zlib.crc32(str(shared.schema).encode())},
        ).scalar()
    return int(pid) if pid is not None else None


# --- the crash test: SIGKILL at random moments during a reminder fan-out ---------------------

# The seed plan's 5-working-day reminder of the six-month report is due at 08:30 on Thursday
# 03/06/2021; started at 09:00 that day, the service sends it late (within office hours).
FAKE_START = "2021-06-03 09:00:00"


def faketime_library() -> Path | None:
    """libfaketime's multithreaded library (Debian package ``faketime``), if installed."""
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))
    return found[0] if found else None


def faketime_environment(start: str) -> dict[str, str]:
    """The process's wall clock starts at ``start`` (local time) each time it starts;
    monotonic time is left alone (otherwise threading waits hang)."""
    library = faketime_library()
    assert library is not None, "libfaketime is not installed (Debian: faketime)"
    return {
        "LD_PRELOAD": str(library),
        "FAKETIME": f"@{start}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


@dataclass(frozen=True)
class CrashRun:
    backend: str
    runs: int
    tally: Tally
    final_status: int
    final_output: str
    seconds: float


async def kill_at_random(
    instance: Instance, server: FakeTelegramBotApi, users: list[int], rng: random.Random
) -> None:
    """SIGKILL ``instance`` at a random moment of the fan-out: every other time within a second
    after it says it runs (the reminder is being queued then), otherwise after a random number
    of further deliveries (the drain)."""
    loop = asyncio.get_running_loop()
    before = deliveries([server], REMINDER_MARK).total()
    remaining = Tally.of(deliveries([server], REMINDER_MARK), users).lost
    if rng.random() < 0.5 or remaining == 0:
        await instance.wait_for(RUNNING, within=120)
        await asyncio.sleep(rng.uniform(0.0, 1.0))
    else:
        target = before + rng.randint(1, max(1, remaining // 3))
        deadline = loop.time() + 120
        while deliveries([server], REMINDER_MARK).total() < target and loop.time() < deadline:
            if instance.process.returncode is not None:
                raise AssertionError(f"{instance.name} ended:\n{instance.output}")
            await asyncio.sleep(0.02)
    await instance.killed()


async def crash_fan_out(
    backend: str, directory: Path, *, recipients: int, kills: int, seed: int
) -> CrashRun:
    """Start the service ``kills`` times and SIGKILL it at a random moment of the fan-out each
    time, then let one more run finish; count what every recipient received across the runs."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with shared_database(backend, directory) as shared:
        plan_file, users = prepare(shared, directory, recipients=recipients)
        async with crowd_server([*users, COORDINATOR_ID]) as server:
            environment = service_environment(
                database_url=shared.url,
                plan_file=plan_file,
                api=server,
                lease_seconds=3,
                **faketime_environment(FAKE_START),
            )
            for run in range(kills):
                instance = await Instance.start(f"run {run + 1}", environment, directory)
                await kill_at_random(instance, server, users, rng)
            final = await Instance.start("last run", environment, directory)
            await final.wait_for(RUNNING, within=120)
            tally = await delivered_to_all([server], REMINDER_MARK, users)
            status = await final.stop()
    return CrashRun(backend, kills + 1, tally, status, final.output, loop.time() - began)
