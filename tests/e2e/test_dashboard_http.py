"""The dashboard over plain HTTP (httpx against the real server): statuses, headers, downloads,
read-only routes, and the Zalo webhook served by the same application."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot

from bot.channels.telegram import keyboard
from bot.channels.zalo import SECRET_HEADER, ZaloChannel, webhook_routes
from bot.dialog.events import DialogResult, IncomingEvent
from storage.database import Database
from storage.models import Plan
from tests.e2e.conftest import COORDINATOR_ID, TOKEN, ZALO_COORDINATOR
from tests.e2e.dashboard_harness import REPORT_FILE, Served, served_dashboard
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.telegram_webapp import init_data
from web.buttons import dashboard_button
from web.dashboard import COOKIE

PLAN = "thai-binh-2021-40-kh-ubnd"
WEBHOOK_SECRET = "bi-mat-webhook-123"


async def ignore(event: IncomingEvent) -> DialogResult:
    return DialogResult(replies=[])


@pytest.fixture
async def zalo(sqlite_database: Database) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(
        token="zalo-token-1234567890",
        api_base_url="http://127.0.0.1:9",
        database=sqlite_database,
        on_event=ignore,
        webhook_secret=WEBHOOK_SECRET,
    )
    yield channel
    await channel.stop(grace=0)


@pytest.fixture
async def served(
    database: Database, seed_plan: Plan, telegram_api: FakeTelegramBotApi, zalo: ZaloChannel
) -> AsyncIterator[Served]:
    routes = webhook_routes(zalo, "/zalo/webhook")
    async with served_dashboard(database, seed_plan, telegram_api, routes=routes) as running:
        yield running


@pytest.fixture
async def client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        yield http


async def sign_in(client: httpx.AsyncClient, served: Served) -> None:
    data = init_data(bot_token=TOKEN, user_id=COORDINATOR_ID, auth_date=served.clock())
    response = await client.post("/dang-nhap-telegram", data={"init_data": data})
    assert response.status_code == 303 and response.headers["location"] == "./"
    cookie = response.headers["set-cookie"]
    assert all(part in cookie for part in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"))
    # httpx keeps Secure cookies for https only; the browser tests check the real thing.
    client.cookies.set(COOKIE, response.cookies[COOKIE])


@pytest.mark.parametrize(
    "path", ["/", "/don-vi?ma=SYT", "/tep?id=1", "/xuat.xlsx", "/bieu-do-nhiet.png"]
)
async def test_every_page_refuses_a_browser_without_a_session(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert "Bạn chưa đăng nhập" in response.text
    assert "/dashboard" in response.text  # and says how to get in


async def test_pages_answer_bad_input_with_a_clear_status(
    client: httpx.AsyncClient, served: Served
) -> None:
    await sign_in(client, served)
    page = await client.get("/", params={"ke_hoach": PLAN, "ky": "tong-ket-nam"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors" in page.headers["content-security-policy"]
    cases = {
        "/?ky=ky-khong-co": (400, "Không có kỳ báo cáo «ky-khong-co»"),
        "/?trang_thai=la": (400, "Không có tình trạng «la»"),
        "/?trang=0": (400, "Số trang «0» không hợp lệ"),
        "/?ke_hoach=khong-co": (404, "Không có kế hoạch «khong-co»"),
        "/don-vi?ma=KHONGCO": (404, "Không có đơn vị «KHONGCO»"),
        "/tep?id=abc": (404, "Không có tệp báo cáo số abc"),
        "/tep?id=999999": (404, "Không có tệp báo cáo số 999999"),
    }
    for path, (status, says) in cases.items():
        response = await client.get(path)
        assert (response.status_code, says in response.text) == (status, True), path


async def test_downloads_the_workbook_and_the_charts(
    client: httpx.AsyncClient, served: Served
) -> None:
    await sign_in(client, served)
    workbook = await client.get("/xuat.xlsx", params={"ke_hoach": PLAN})
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    assert "attachment" in workbook.headers["content-disposition"]
    for chart in ("/bieu-do-ty-le.png", "/bieu-do-nhiet.png"):
        png = await client.get(chart)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG"), chart
    # Plans of format 1 have no indicators: no indicator chart.
    assert (await client.get("/bieu-do-chi-tieu.png")).status_code == 404


async def test_a_file_telegram_cannot_give_now_is_a_bad_gateway_until_it_can(
    client: httpx.AsyncClient, served: Served, telegram_api: FakeTelegramBotApi
) -> None:
    await sign_in(client, served)
    agency = await client.get("/don-vi", params={"ma": "STTTT"})
    number = agency.text.split('href="tep?id=')[1].split('"')[0]
    telegram_api.fail_next("getFile", status=502)
    response = await client.get("/tep", params={"id": number})
    assert response.status_code == 502
    assert "Chưa tải được tệp «BC_TongKet_BDG_2021_SoTTTT.pdf»" in response.text
    again = await client.get("/tep", params={"id": number})
    assert again.status_code == 200 and again.content == REPORT_FILE


async def test_nothing_but_the_logins_accepts_a_post(
    client: httpx.AsyncClient, served: Served
) -> None:
    await sign_in(client, served)
    for path in ("/", "/don-vi", "/tep", "/xuat.xlsx", "/dang-xuat"):
        assert (await client.post(path)).status_code == 405, path


async def test_a_login_posted_from_another_site_is_refused(
    client: httpx.AsyncClient, served: Served
) -> None:
    data = init_data(bot_token=TOKEN, user_id=COORDINATOR_ID, auth_date=served.clock())
    response = await client.post(
        "/dang-nhap-telegram", data={"init_data": data}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 401 and COOKIE not in response.headers.get("set-cookie", "")


async def test_opening_a_login_link_does_not_use_it_up_and_logging_out_ends_the_session(
    client: httpx.AsyncClient, served: Served
) -> None:
    link = served.local(served.auth.login_link("zalo", ZALO_COORDINATOR))
    for _ in range(3):  # a chat app's link preview, then the person
        assert (await client.get(link)).status_code == 200
    token = link.split("t=")[1]
    response = await client.post("/dang-nhap", data={"t": token})
    assert response.status_code == 303
    client.cookies.set(COOKIE, response.cookies[COOKIE])
    assert (await client.get("/")).status_code == 200
    logout = await client.get("/dang-xuat")
    assert f'{COOKIE}=""' in logout.headers["set-cookie"]
    assert "Max-Age=0" in logout.headers["set-cookie"]


async def test_the_zalo_webhook_is_served_by_the_same_application(
    client: httpx.AsyncClient,
) -> None:
    update = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "m1",
            "from": {"id": "u1", "display_name": "Lan"},
            "chat": {"id": "u1", "chat_type": "PRIVATE"},
            "text": "xin chào",
        },
    }
    refused = await client.post("/zalo/webhook", json=update, headers={SECRET_HEADER: "sai"})
    assert refused.status_code == 403
    accepted = await client.post(
        "/zalo/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert accepted.status_code == 200


async def test_telegram_accepts_the_dashboard_button(
    telegram_api: FakeTelegramBotApi, served: Served
) -> None:
    """The Web App button, sent for real to the fake Bot API (which checks it against the
    official method and type list)."""
    telegram_api.user_sends_text(COORDINATOR_ID, "/tonghop")
    markup = keyboard(((dashboard_button(served.auth),),))
    async with Bot(TOKEN, base_url=telegram_api.base_url) as bot:
        await bot.send_message(COORDINATOR_ID, "Tổng hợp", reply_markup=markup)
    message = await telegram_api.next_bot_message(COORDINATOR_ID, timeout=5)
    assert message.text == "Tổng hợp"
    assert telegram_api.validation_errors == []
