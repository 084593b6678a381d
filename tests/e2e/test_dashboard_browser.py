"""The dashboard in a real headless browser: Debian's Chromium driven by Playwright (the
``playwright`` package drives ``/usr/bin/chromium``; no browser is downloaded).

Login by Telegram's ``initData`` (built here as Telegram builds it), the overview and its
filters, an agency page, a file download, a login link used once; and the refusals: a focal
point, a stranger, forged ``initData``, an old ``auth_date``, replayed ``initData``, a reused or
expired link, no cookie. With ``DASHBOARD_SCREENSHOTS=docs`` (``make docs-screenshots``) the
screenshots of the overview and an agency page are written to docs/ for the README.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.database import Database
from storage.models import Plan
from tests.conftest import REPO
from tests.e2e.conftest import COORDINATOR_ID, TOKEN, ZALO_COORDINATOR
from tests.e2e.dashboard_harness import (
    FOCAL_POINT_ID,
    REPORT_FILE,
    REPORT_FILE_NAME,
    STRANGER_ID,
    Served,
    served_dashboard,
)
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.telegram_webapp import init_data, launch_fragment

try:
    from playwright.async_api import Browser, Page, ViewportSize, async_playwright
except ImportError:  # a dev dependency: `make install` brings it
    pytest.skip("the pip package playwright is not installed", allow_module_level=True)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)  # what Telegram's in-app browser gives on a phone


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium with a fresh profile (Playwright gives each launch a new one)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def served(
    database: Database, seed_plan: Plan, telegram_api: FakeTelegramBotApi
) -> AsyncIterator[Served]:
    async with served_dashboard(database, seed_plan, telegram_api) as running:
        yield running


async def open_from_telegram(
    browser: Browser, served: Served, user_id: int, *, token: str = TOKEN, age: int = 0
) -> tuple[Page, int]:
    """A fresh browser opens the Web App as Telegram does; the page and the login's status."""
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    data = init_data(
        bot_token=token, user_id=user_id, auth_date=served.clock() - timedelta(seconds=age)
    )
    async with page.expect_response(lambda r: r.url.endswith("/dang-nhap-telegram")) as login:
        await page.goto(f"{served.base_url}/webapp{launch_fragment(data)}")
    await page.wait_for_load_state()
    return page, (await login.value).status


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    picture = await page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG")
    (tmp_path / name).write_bytes(picture)
    if os.environ.get("DASHBOARD_SCREENSHOTS") == "docs":
        (REPO / "docs" / name).write_bytes(picture)


async def test_a_coordinator_opens_the_dashboard_from_telegram_and_filters_the_overview(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    page, status = await open_from_telegram(browser, served, COORDINATOR_ID)
    assert status == 303
    assert await page.inner_text("h1") == "Kế hoạch số 40/KH-UBND"
    (cookie,) = await page.context.cookies()
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    # The annual report, as of 20/12/2021: 15 on time + 3 late of 21 units, 3 missing.
    assert await page.inner_text("#count-received") == "18/21"
    assert await page.inner_text("#count-missing") == "3"
    assert await page.locator("#overview tbody tr").count() == 21
    await screenshot(page, "dashboard-overview.png", tmp_path)

    async with page.expect_navigation():
        await page.select_option("#filter-kind", "district")  # the script submits the form
    assert await page.locator("#overview tbody tr").count() == 8
    async with page.expect_navigation():
        await page.check("#filter-overdue")
    units = await page.locator("#overview tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.unit)"
    )
    assert units == ["QUYNHPHU"]  # the one district that sent nothing


async def test_an_agency_page_shows_its_people_and_history_and_gives_the_report_file(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    page, _ = await open_from_telegram(browser, served, COORDINATOR_ID)
    await page.set_viewport_size(PHONE)
    async with page.expect_navigation():
        await page.click("#overview a[href*='ma=STTTT']")
    assert await page.inner_text("#unit-name") == "Sở Thông tin và Truyền thông"
    assert "Nguyễn Thị Hoa" in await page.inner_text("#focal-points")
    history = page.locator("#history tbody tr")
    assert await history.count() == 3
    assert "Hoàn thành" in await history.first.inner_text()
    await screenshot(page, "dashboard-agency.png", tmp_path)

    async with page.expect_download() as waiting:
        await page.click("#history a.file")
    download = await waiting.value
    assert download.suggested_filename == REPORT_FILE_NAME
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == REPORT_FILE


async def test_a_login_link_signs_a_zalo_coordinator_in_once(
    browser: Browser, served: Served
) -> None:
    link = served.local(served.auth.login_link("zalo", ZALO_COORDINATOR))
    first = await (await browser.new_context()).new_page()
    await first.goto(link)  # opening it (as a link preview would) does not use it up
    await first.reload()
    async with first.expect_navigation():
        await first.click("#login-button")
    assert await first.inner_text("h1") == "Kế hoạch số 40/KH-UBND"

    again = await (await browser.new_context()).new_page()
    await again.goto(link)
    async with again.expect_response(lambda r: r.request.method == "POST") as login:
        await again.click("#login-button")
    assert (await login.value).status == 410
    assert "đã được dùng" in await again.inner_text("#refusal")

    late = served.local(served.auth.login_link("zalo", ZALO_COORDINATOR))
    served.clock.advance(served.auth.link_ttl)
    expired = await (await browser.new_context()).new_page()
    response = await expired.goto(late)
    assert response is not None and response.status == 410
    assert "hết hạn" in await expired.inner_text("#refusal")


@pytest.mark.parametrize(
    ("user_id", "token", "age", "status", "says"),
    [
        (FOCAL_POINT_ID, TOKEN, 0, 403, "Chỉ cán bộ điều phối"),
        (STRANGER_ID, TOKEN, 0, 403, "Chỉ cán bộ điều phối"),
        (COORDINATOR_ID, "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsXYZ", 0, 401, "sai chữ ký"),
        (COORDINATOR_ID, TOKEN, 6 * 60, 401, "quá hạn"),
    ],
    ids=["focal-point", "stranger", "forged", "old-auth-date"],
)
async def test_the_web_app_refuses_whoever_is_not_a_signed_coordinator(
    browser: Browser, served: Served, user_id: int, token: str, age: int, status: int, says: str
) -> None:
    page, login_status = await open_from_telegram(browser, served, user_id, token=token, age=age)
    assert login_status == status
    assert says in await page.inner_text("#refusal")
    assert await page.context.cookies() == []
    response = await page.goto(f"{served.base_url}/?ke_hoach=thai-binh-2021-40-kh-ubnd")
    assert response is not None and response.status == 401
    assert "chưa đăng nhập" in await page.inner_text("#refusal")


async def test_replayed_init_data_is_refused(browser: Browser, served: Served) -> None:
    data = init_data(bot_token=TOKEN, user_id=COORDINATOR_ID, auth_date=served.clock())
    statuses = []
    for _ in range(2):
        page = await (await browser.new_context()).new_page()
        async with page.expect_response(lambda r: r.url.endswith("/dang-nhap-telegram")) as login:
            await page.goto(f"{served.base_url}/webapp{launch_fragment(data)}")
        statuses.append((await login.value).status)
        await page.wait_for_load_state()
    assert statuses == [303, 401]
    assert "đã được dùng" in await page.inner_text("#refusal")
