"""The way from the chat to the dashboard: /dashboard's single-use link, the Web App button
under /tonghop where the chat app opens pages inside the chat (Telegram), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dialog.core import DialogCore
from bot.dialog.events import DocumentReply
from scheduler.reminders import CoordinatorAddress
from storage.database import Database
from storage.models import Plan
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from web.auth import Authenticator
from web.buttons import DashboardLinks
from web.storage_data import DatabaseUsedLogins

PUBLIC_URL = "https://bang-dieu-khien.example.vn"
COORDINATORS = [CoordinatorAddress("telegram", "1001"), CoordinatorAddress("zalo", "z-1001")]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))


def core_with_dashboard(database: Database, clock: FakeClock) -> DialogCore:
    auth = Authenticator(
        key=b"k" * 32,
        coordinators=frozenset((a.channel, a.chat_id) for a in COORDINATORS),
        used=DatabaseUsedLogins(database),
        public_url=PUBLIC_URL,
        telegram_token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        clock=clock,
    )
    return dialog_core(clock=clock, coordinators=COORDINATORS, dashboard=DashboardLinks(auth))


def test_dashboard_gives_a_coordinator_a_single_use_login_link(
    database: Database, seed_plan: Plan, clock: FakeClock
) -> None:
    core = core_with_dashboard(database, clock)
    on_zalo = CoreChat(database, core, "z-1001", channel="zalo")
    on_zalo.send("/dashboard")
    assert f"{PUBLIC_URL}/" in on_zalo.text() and "một lần" in on_zalo.text()
    on_zalo.send("/bangdieukhien")
    assert f"{PUBLIC_URL}/" in on_zalo.text()
    stranger = CoreChat(database, core, "2001")
    stranger.send("/dashboard")
    assert PUBLIC_URL not in stranger.text() and "chỉ dành cho cán bộ điều phối" in stranger.text()


def test_the_overview_carries_the_web_app_button_on_telegram_only(
    database: Database, seed_plan: Plan, clock: FakeClock
) -> None:
    core = core_with_dashboard(database, clock)
    on_telegram = CoreChat(database, core, "1001")
    on_telegram.send("/tonghop")
    reply, *charts = on_telegram.last.replies  # the text, then its charts
    assert all(isinstance(chart, DocumentReply) for chart in charts)
    buttons = [b for row in getattr(reply, "buttons", ()) for b in row]
    assert [(b.label, b.url, b.web_app) for b in buttons] == [
        ("📊 Bảng điều khiển", f"{PUBLIC_URL}/webapp", True)
    ]
    on_zalo = CoreChat(database, core, "z-1001", channel="zalo")
    on_zalo.send("/tonghop")
    assert all(not getattr(r, "buttons", ()) for r in on_zalo.last.replies)


def test_without_the_dashboard_the_command_says_how_to_turn_it_on(
    database: Database, seed_plan: Plan, clock: FakeClock
) -> None:
    core = dialog_core(clock=clock, coordinators=COORDINATORS)
    coordinator = CoreChat(database, core, "1001")
    coordinator.send("/dashboard")
    assert "WEB_LISTEN" in coordinator.text()
