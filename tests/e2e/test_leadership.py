"""Two ``nhacviec run`` processes on one database (issue 9, item 2).

SQLite: a second service, or ``migrate``, reaching the database through a symlink or a hard
link is refused with one line. PostgreSQL: the second instance stands by; when the leader is
killed, cut off from its lock connection, or paused past its lease, the standby takes over and
delivers the rest of a broadcast — nothing lost, at most the message in flight twice — and the
old leader never sends again.

Each instance talks to its own fake Bot API (the same recipients on both), so the test sees
which instance sent what and when.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.instances import (
    BROADCAST_MARK,
    COORDINATOR_ID,
    LOST,
    RUNNING,
    STANDING_BY,
    TOOK_OVER,
    Instance,
    SharedDatabase,
    Tally,
    crowd_server,
    delivered_to_all,
    deliveries,
    lock_backend_pid,
    prepare,
    service_environment,
    shared_database,
)
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

LEASE = 3  # seconds: LEADER_LEASE_SECONDS of both instances
ANNOUNCEMENT = "/thongbao Họp giao ban trực tuyến lúc 14 giờ chiều nay, các đơn vị cử người dự."


def on_postgres(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A two-instance test: PostgreSQL only, and longer than the suite's default timeout."""
    marks = [
        pytest.mark.postgres,
        pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set"),
        pytest.mark.timeout(240),
    ]
    for mark in marks:
        test = mark(test)
    return test


# --- SQLite: one machine, one service -------------------------------------------------------


def same_file(named: str, path: Path) -> bool:
    return Path(named).samefile(path)


async def run_once(directory: Path, environment: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
        cwd=directory,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.mark.timeout(120)
async def test_on_sqlite_a_second_service_or_migrate_through_another_name_is_refused(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with shared_database("sqlite", data) as shared:
        plan_file, users = prepare(shared, tmp_path, recipients=3)
    (tmp_path / "via-symlink.db").symlink_to(data / "nhacviec.db")
    os.link(data / "nhacviec.db", tmp_path / "hard-link.db")
    async with crowd_server([*users, COORDINATOR_ID]) as api:

        def environment(url: str) -> dict[str, str]:
            return service_environment(
                database_url=url, plan_file=plan_file, api=api, lease_seconds=LEASE
            )

        leader = await Instance.start("leader", environment(shared.url), tmp_path)
        try:
            await leader.wait_for(RUNNING)
            for url, command in [
                ("sqlite:///via-symlink.db", "run"),
                ("sqlite:///hard-link.db", "run"),
                ("sqlite:///via-symlink.db", "migrate"),
                ("sqlite:///hard-link.db", "load-plan"),
            ]:
                status, stderr = await run_once(tmp_path, environment(url), command)
                [line] = stderr.strip().splitlines()
                assert status == 2, (url, command, stderr)
                named = re.fullmatch(
                    r"nhacviec: một tiến trình nhacviec khác đang chạy với cùng cơ sở dữ liệu "
                    r"\((/.+)\); hãy dừng tiến trình đó trước\.",
                    line,
                )
                assert named is not None, line
                assert same_file(named.group(1), data / "nhacviec.db")
        finally:
            status = await leader.stop()
    assert status == 0 and "Traceback" not in leader.output


# --- PostgreSQL: hot standby -----------------------------------------------------------------


@dataclass
class Pair:
    """A leader and a standby on one PostgreSQL schema, each with its own fake Bot API."""

    shared: SharedDatabase
    users: list[int]
    leader: Instance
    standby: Instance
    leader_api: FakeTelegramBotApi
    standby_api: FakeTelegramBotApi
    environment: dict[str, str]  # the leader's

    @property
    def apis(self) -> list[FakeTelegramBotApi]:
        return [self.leader_api, self.standby_api]

    def broadcast(self) -> None:
        self.leader_api.user_sends_text(COORDINATOR_ID, ANNOUNCEMENT, first_name="Điều phối")

    async def delivered_at_least(self, count: int) -> None:
        def enough() -> bool:
            return deliveries([self.leader_api], BROADCAST_MARK).total() >= count

        await self.leader_api.wait_until(enough, timeout=60)

    def leader_sends_after(self, moment: float) -> int:
        """Broadcast messages the first leader's fake server received after ``moment``."""
        wanted = set(self.users)
        return sum(
            1
            for call in self.leader_api.calls_to("sendMessage")
            if call.at > moment and call.chat_id in wanted
        )

    async def everyone_served(self) -> Tally:
        return await delivered_to_all(self.apis, BROADCAST_MARK, self.users)

    async def stop_both(self) -> None:
        for instance in (self.leader, self.standby):
            status = await instance.stop()
            assert status == 0, f"{instance.name} ended with {status}:\n{instance.output}"
            assert "Traceback" not in instance.output, instance.output


@asynccontextmanager
async def leader_and_standby(tmp_path: Path, *, recipients: int) -> AsyncIterator[Pair]:
    with shared_database("postgresql", tmp_path) as shared:
        plan_file, users = prepare(shared, tmp_path, recipients=recipients)
        people = [*users, COORDINATOR_ID]
        async with crowd_server(people) as first, crowd_server(people) as second:
            started: list[Instance] = []

            def environment(api: FakeTelegramBotApi) -> dict[str, str]:
                return service_environment(
                    database_url=shared.url, plan_file=plan_file, api=api, lease_seconds=LEASE
                )

            async def start(name: str, api: FakeTelegramBotApi, waits_for: str) -> Instance:
                instance = await Instance.start(name, environment(api), tmp_path)
                started.append(instance)
                await instance.wait_for(waits_for)
                return instance

            try:
                leader = await start("leader", first, RUNNING)
                standby = await start("standby", second, STANDING_BY)
                yield Pair(shared, users, leader, standby, first, second, environment(first))
            except BaseException:  # pytest shows what was printed when a test fails
                for instance in started:
                    print(f"--- {instance.name} ---\n{instance.output}")
                raise
            finally:
                for instance in started:
                    if instance.process.returncode is None:
                        await instance.killed()


@on_postgres
async def test_when_the_leader_is_killed_mid_broadcast_the_standby_delivers_the_rest(
    tmp_path: Path,
) -> None:
    """SIGKILL during a 600-message /thongbao fan-out: the standby takes over within 10 s."""
    async with leader_and_standby(tmp_path, recipients=600) as pair:
        [console] = [line for line in pair.standby.printed if STANDING_BY in line]
        assert f"phiên bản {pair.shared.lease_holder()} đang chạy" in console  # and logged:
        assert pair.standby.count(STANDING_BY) == 2
        status, stderr = await run_once(tmp_path, pair.environment, "migrate")
        assert status == 2 and stderr.strip().splitlines() == [
            f"nhacviec: phiên bản nhacviec {pair.shared.lease_holder()} đang chạy với cùng cơ sở "
            "dữ liệu; hãy dừng phiên bản đó trước (còn `nhacviec run` thì tự chờ dự phòng)."
        ]
        pair.broadcast()
        await pair.delivered_at_least(150)
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        await pair.leader.killed()
        took_over = await pair.standby.wait_for(TOOK_OVER, within=15)
        assert took_over - killed_at < 10
        await pair.standby.wait_for(RUNNING, within=60)  # channels, sender, scheduler
        tally = await pair.everyone_served()
        status = await pair.standby.stop()
    assert status == 0 and "Traceback" not in pair.standby.output
    assert tally.lost == 0, tally
    assert tally.duplicated <= 1, tally  # the message in flight when the leader died


@on_postgres
async def test_a_leader_whose_lock_connection_is_terminated_stops_and_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    """pg_terminate_backend of the leader's lock connection: it stops sending within the
    lease, stands by again, and shuts down without a traceback."""
    async with leader_and_standby(tmp_path, recipients=300) as pair:
        pair.broadcast()
        await pair.delivered_at_least(50)
        pid = lock_backend_pid(pair.shared)
        assert pid is not None
        with pair.shared.database.engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        cut_at = asyncio.get_running_loop().time()
        took_over = await pair.standby.wait_for(TOOK_OVER, within=15)
        assert took_over - cut_at < 10
        await pair.leader.wait_for(LOST, within=20)
        await pair.leader.wait_for(STANDING_BY, within=20)  # and it stands by again
        tally = await pair.everyone_served()
        await pair.stop_both()
    assert pair.leader_sends_after(cut_at + LEASE) == 0
    assert tally.lost == 0, tally
    assert tally.duplicated <= 1, tally


@on_postgres
async def test_a_leader_paused_past_its_lease_is_taken_over_and_sends_nothing_more(
    tmp_path: Path,
) -> None:
    """SIGSTOP for longer than the lease (its lock session stays alive): the standby takes over
    when the lease expires; resumed, the old leader finishes at most the message in flight."""
    async with leader_and_standby(tmp_path, recipients=200) as pair:
        pair.broadcast()
        await pair.delivered_at_least(30)
        pair.leader.signal(signal.SIGSTOP)
        await pair.standby.wait_for(RUNNING, within=LEASE + 15)
        pair.leader.signal(signal.SIGCONT)
        resumed_at = asyncio.get_running_loop().time()
        await pair.leader.wait_for(LOST, within=20)
        tally = await pair.everyone_served()
        await pair.stop_both()
    assert pair.leader_sends_after(resumed_at) <= 1
    assert tally.lost == 0, tally
    assert tally.duplicated <= 1, tally
