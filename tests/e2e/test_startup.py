"""Starting the real command line against the fake servers: a refused token, an API that cannot
be reached or is not a Bot API, gives one line naming the variable and exit status 2 — never a
traceback, never the token."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import SEED_PLAN_FILE
from tests.e2e.conftest import TOKEN, ZALO_COORDINATOR
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fakes.zalo_bot_api import FakeZaloBotApi

REVOKED_TOKEN = "987654321:AAFrevokedRevokedRevokedRevoked0000"  # well-formed, unknown
REVOKED_ZALO_TOKEN = "2451617829106837431:RevokedZaloToken0000"
COORDINATOR = "500001"


@dataclass
class Finished:
    status: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()

    def assert_one_line(self, variable: str, *secrets: str) -> str:
        """Exit 2, one line on stderr naming ``variable``, no traceback, no secret anywhere."""
        assert self.status == 2, self.stderr
        assert len(self.lines) == 1, self.stderr
        assert self.lines[0].startswith(f"nhacviec: lỗi cấu hình {variable}: "), self.stderr
        assert "Traceback" not in self.stderr
        for secret in secrets:
            assert secret not in self.stdout + self.stderr
        return self.lines[0]


def cli_environment(tmp_path: Path, **values: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "COORDINATOR_", "DATABASE_URL", "TZ"))
    }
    environment.update(
        PLAN_FILE=str(SEED_PLAN_FILE),
        DATABASE_URL=f"sqlite:///{tmp_path / 'nhacviec.db'}",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **values,
    )
    return environment


async def start_cli(tmp_path: Path, *args: str, **values: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_environment(tmp_path, **values),
        cwd=tmp_path,
    )


async def run_cli(tmp_path: Path, *args: str, **values: str) -> Finished:
    process = await start_cli(tmp_path, *args, **values)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=40)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        raise AssertionError(f"nhacviec did not stop: {stderr.decode()}") from None
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@asynccontextmanager
async def http_server(answer: Callable[[], web.Response]) -> AsyncIterator[str]:
    """Something at an address that is not a Bot API (a web site, a proxy's error page)."""

    async def handle(request: web.Request) -> web.Response:
        return answer()

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


# --- Telegram -------------------------------------------------------------------------------


async def test_a_revoked_telegram_token_is_one_line_without_the_token(
    tmp_path: Path, telegram_api: FakeTelegramBotApi
) -> None:
    finished = await run_cli(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=REVOKED_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{telegram_api.port}",
        COORDINATOR_TELEGRAM_IDS=COORDINATOR,
    )
    line = finished.assert_one_line("TELEGRAM_BOT_TOKEN", REVOKED_TOKEN)
    assert "Telegram từ chối mã bot (sai hoặc đã bị thu hồi)" in line
    assert REVOKED_TOKEN.split(":")[1] not in finished.stderr


async def test_an_unreachable_telegram_api_names_the_base_url(tmp_path: Path) -> None:
    port = closed_port()
    finished = await run_cli(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}",
        COORDINATOR_TELEGRAM_IDS=COORDINATOR,
    )
    line = finished.assert_one_line("TELEGRAM_API_BASE_URL", TOKEN)
    assert f"không kết nối được máy chủ Telegram http://127.0.0.1:{port}" in line
    assert "ClientConnectorError" in line  # aiohttp's refused connection


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda: web.Response(
                status=404, text="<html>Not here</html>", content_type="text/html"
            ),
            "không trả lời như một máy chủ Telegram Bot API (Not Found (404))",
        ),
        (
            lambda: web.Response(status=502, text="<html>Bad gateway</html>"),
            "báo lỗi (Bad Gateway (502))",
        ),
    ],
    ids=["web-page-404", "proxy-error-502"],
)
async def test_a_base_url_that_is_not_a_working_bot_api_is_named(
    tmp_path: Path, answer: Callable[[], web.Response], expected: str
) -> None:
    """PTB calls a 404 from any web server "invalid token": that is the address's fault."""
    async with http_server(answer) as url:
        finished = await run_cli(
            tmp_path,
            "run",
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=url,
            COORDINATOR_TELEGRAM_IDS=COORDINATOR,
        )
    line = finished.assert_one_line("TELEGRAM_API_BASE_URL", TOKEN)
    assert expected in line and "<html>" not in line


# --- Zalo -----------------------------------------------------------------------------------


async def test_a_revoked_zalo_token_is_one_line_without_the_token(
    tmp_path: Path, zalo_api: FakeZaloBotApi
) -> None:
    finished = await run_cli(
        tmp_path,
        "run",
        ZALO_BOT_TOKEN=REVOKED_ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo_api.base_url,
        COORDINATOR_ZALO_IDS=ZALO_COORDINATOR,
    )
    line = finished.assert_one_line("ZALO_BOT_TOKEN", REVOKED_ZALO_TOKEN)
    assert "Zalo từ chối mã bot (sai hoặc đã bị thu hồi)" in line and "401" in line


async def test_an_unreachable_zalo_api_names_the_base_url(tmp_path: Path) -> None:
    port = closed_port()
    finished = await run_cli(
        tmp_path,
        "run",
        ZALO_BOT_TOKEN=ZALO_TOKEN,
        ZALO_API_BASE_URL=f"http://127.0.0.1:{port}",
        COORDINATOR_ZALO_IDS=ZALO_COORDINATOR,
    )
    line = finished.assert_one_line("ZALO_API_BASE_URL", ZALO_TOKEN)
    assert f"không kết nối được máy chủ Zalo http://127.0.0.1:{port}" in line


async def test_zalo_refusing_after_telegram_started_still_stops_with_its_line(
    tmp_path: Path, telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi
) -> None:
    """Telegram is already polling when Zalo says no: the process still ends, exit 2, with the
    Zalo line last and nothing secret (the lines before are ordinary start-up log lines)."""
    finished = await run_cli(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{telegram_api.port}",
        COORDINATOR_TELEGRAM_IDS=COORDINATOR,
        ZALO_BOT_TOKEN=REVOKED_ZALO_TOKEN,
        ZALO_API_BASE_URL=zalo_api.base_url,
    )
    assert finished.status == 2, finished.stderr
    assert finished.lines[-1].startswith("nhacviec: lỗi cấu hình ZALO_BOT_TOKEN: ")
    assert [line for line in finished.lines if line.startswith("nhacviec:")] == finished.lines[-1:]
    assert "Traceback" not in finished.stderr and " ERROR " not in finished.stderr
    assert TOKEN not in finished.stderr and REVOKED_ZALO_TOKEN not in finished.stderr


# --- a good start ---------------------------------------------------------------------------


async def test_without_a_coordinator_the_service_warns_who_to_set(
    tmp_path: Path, telegram_api: FakeTelegramBotApi
) -> None:
    process = await start_cli(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{telegram_api.port}",
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not seen or "nhacviec is running" not in seen[-1]:
                line = await process.stderr.readline()
                assert line, f"nhacviec ended: {''.join(seen)}"
                seen.append(line.decode())
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    stderr = "".join(seen) + rest.decode()
    assert process.returncode == 0, stderr
    warning = next(line for line in seen if " WARNING " in line)
    assert "chưa có cán bộ điều phối nào" in warning and "/moi" in warning
    assert "COORDINATOR_TELEGRAM_IDS" in warning and "COORDINATOR_ZALO_IDS" not in warning
    assert TOKEN not in stderr and "Traceback" not in stderr
