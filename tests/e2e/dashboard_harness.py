"""The dashboard served for tests: the seed plan with the invented 2021 reports, a real aiohttp
server on 127.0.0.1, report files fetched from the fake Telegram Bot API by a real
python-telegram-bot ``Bot``, and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.web import AbstractRouteDef
from telegram import Bot

from storage.database import Database
from storage.models import Plan
from tests.e2e.conftest import COORDINATOR_ID, TOKEN, ZALO_COORDINATOR
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fixtures import seed_reports_2021
from tests.fixtures.seed_dashboard import focal_point_user_id, populate
from web.auth import Authenticator, signing_key
from web.dashboard import Dashboard
from web.files import TelegramFiles
from web.server import Listen, build_web_app, start_web
from web.storage_data import DatabaseUsedLogins, StorageDashboardData

PUBLIC_URL = "https://bang-dieu-khien.example.vn"
REPORT_FILE_NAME = "BC_TongKet_BDG_2021_SoTTTT.pdf"
REPORT_FILE = b"%PDF-1.4 bao cao tong ket nam 2021 cua So TT&TT"
FOCAL_POINT_ID = int(focal_point_user_id(0))  # a registered focal point, not a coordinator
STRANGER_ID = 123_456_789


@dataclass
class Served:
    base_url: str
    auth: Authenticator
    clock: FakeClock
    database: Database

    def local(self, link: str) -> str:
        """A link as the proxy would pass it on: the public address replaced by the server's."""
        assert link.startswith(PUBLIC_URL), link
        return self.base_url + link.removeprefix(PUBLIC_URL)

    def authenticator(self) -> Authenticator:
        """Another authenticator over the same database, as after a restart."""
        return make_authenticator(self.database, self.clock)


def make_authenticator(database: Database, clock: FakeClock) -> Authenticator:
    return Authenticator(
        key=signing_key([TOKEN]),
        coordinators=frozenset({("telegram", str(COORDINATOR_ID)), ("zalo", ZALO_COORDINATOR)}),
        used=DatabaseUsedLogins(database),
        public_url=PUBLIC_URL,
        telegram_token=TOKEN,
        clock=clock,
    )


@asynccontextmanager
async def served_dashboard(
    database: Database,
    plan: Plan,
    telegram_api: FakeTelegramBotApi,
    *,
    routes: Iterable[AbstractRouteDef] = (),
) -> AsyncIterator[Served]:
    telegram_api.user_sends_document(FOCAL_POINT_ID, REPORT_FILE_NAME, REPORT_FILE)
    file_id = list(telegram_api.files)[-1]
    database.run_sync(populate, plan=plan, file_ids={"STTTT": file_id})
    clock = FakeClock(seed_reports_2021.AS_OF)
    auth = make_authenticator(database, clock)
    bot = Bot(TOKEN, base_url=telegram_api.base_url, base_file_url=telegram_api.base_file_url)
    async with bot:
        dashboard = Dashboard(
            data=StorageDashboardData(database),
            auth=auth,
            files={"telegram": TelegramFiles(bot)},
            clock=clock,
        )
        app = build_web_app(dashboard=dashboard, routes=routes)
        server = await start_web(app, [Listen("127.0.0.1", 0, "WEB_LISTEN")])
        host, port = server.addresses[0]
        try:
            yield Served(f"http://{host}:{port}", auth, clock, database)
        finally:
            await server.stop()
