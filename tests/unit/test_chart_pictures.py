"""Pictures the bot makes (the charts of /tonghop), through each channel: a photo on Telegram
(a file if Telegram refuses it as a photo), one note on Zalo, whose sendPhoto takes only a URL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel, pictures_note
from bot.charts import PNG_MIME
from bot.dialog.events import DialogResult, DocumentReply, IncomingEvent, TextReply
from documents.charts import reporting_rate_chart
from documents.model import PeriodCounts
from storage.database import Database
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fakes.zalo_bot_api import FakeZaloBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = 500_001
ZALO_USER = "c0ffee0000aa11bb22cc"


@pytest.fixture(scope="module")
def chart() -> DocumentReply:
    counts = [PeriodCounts(label="Báo cáo sơ kết 6 tháng", on_time=16, late=4, missing=1)]
    return DocumentReply(
        filename="ty-le-bao-cao.png",
        content=reporting_rate_chart(counts),
        mime_type=PNG_MIME,
        caption="📊 Tỷ lệ báo cáo theo kỳ — Kế hoạch số 40/KH-UBND",
    )


async def _no_event(event: IncomingEvent) -> DialogResult:
    return DialogResult()


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramBotApi]:
    async with FakeTelegramBotApi(token=TOKEN) as server:
        server.add_user(CHAT, first_name="Điều phối")
        yield server
        assert server.validation_errors == [], server.validation_errors


@pytest.fixture
async def telegram(telegram_api: FakeTelegramBotApi) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(
        token=TOKEN,
        api_base_url=telegram_api.base_url.removesuffix("/bot"),
        on_event=_no_event,
    )
    await channel.application.initialize()  # getMe, no polling: the test sends replies itself
    yield channel
    await channel.application.shutdown()


def test_only_new_images_count_as_pictures(chart: DocumentReply) -> None:
    assert chart.is_picture
    assert not DocumentReply(filename="a.xlsx", content=b"PK").is_picture
    photo_of_a_user = DocumentReply(filename="a.jpg", file_id="AgAD", mime_type="image/jpeg")
    assert not photo_of_a_user.is_picture  # a file the channel holds already: sent as before


async def test_telegram_sends_a_chart_as_a_photo_after_the_text(
    telegram_api: FakeTelegramBotApi, telegram: TelegramChannel, chart: DocumentReply
) -> None:
    xlsx = DocumentReply(filename="tong-hop.xlsx", content=b"PK\x03\x04", caption="Excel")
    await telegram.send_replies(CHAT, [TextReply("📊 TỔNG HỢP BÁO CÁO"), chart, xlsx])
    calls = [c for c in telegram_api.calls if c.method.startswith("send")]
    assert [c.method for c in calls] == ["sendMessage", "sendPhoto", "sendDocument"]
    assert calls[1].files["photo"] == chart.content
    assert calls[1].params["caption"] == chart.caption


async def test_a_picture_telegram_refuses_as_a_photo_goes_as_a_file(
    telegram_api: FakeTelegramBotApi, telegram: TelegramChannel, chart: DocumentReply
) -> None:
    telegram_api.fail_next(
        "sendPhoto", status=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS"
    )
    await telegram.send_replies(CHAT, [chart])
    sent = [c for c in telegram_api.calls if c.method.startswith("send")]
    assert [c.method for c in sent] == ["sendDocument"]
    assert sent[0].files["document"] == chart.content


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloBotApi]:
    async with FakeZaloBotApi() as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


async def test_zalo_gets_one_note_for_every_chart_after_the_text(
    zalo_api: FakeZaloBotApi, chart: DocumentReply, sqlite_database: Database
) -> None:
    zalo = ZaloChannel(
        token=ZALO_TOKEN,
        api_base_url=zalo_api.base_url,
        database=sqlite_database,
        on_event=_no_event,
    )
    heat_map = DocumentReply(
        filename="don-vi-theo-ky.png", content=b"\x89PNG", mime_type=PNG_MIME, caption="🗺 Bản đồ"
    )
    try:
        await zalo.send_replies(ZALO_USER, [TextReply("📊 TỔNG HỢP BÁO CÁO"), chart, heat_map])
    finally:
        await zalo.api.aclose()
    sent = zalo_api.bot_messages(ZALO_USER)
    assert [m.method for m in sent] == ["sendMessage", "sendMessage"]
    assert sent[0].text == "📊 TỔNG HỢP BÁO CÁO"
    assert sent[1].text == pictures_note([chart, heat_map])
    assert "2 biểu đồ" in sent[1].text and "/tonghop trên Telegram" in sent[1].text
    assert f"• {chart.caption}\n• 🗺 Bản đồ" in sent[1].text


def test_a_letter_no_font_has_draws_as_a_box_without_a_warning() -> None:
    """A period (or unit) name may hold any letter a user typed; warnings are errors here."""
    picture = reporting_rate_chart([PeriodCounts(label="Kỳ \U000b96e6 \U0001d54f", on_time=1)])
    assert picture.startswith(b"\x89PNG")
