"""A coordinator sends a plan's document to the bot and gets the draft plan file back, through
the real python-telegram-bot stack (getFile and the file download included)."""

from __future__ import annotations

import yaml

from bot.config import Settings
from tests.conftest import SEED_DOCUMENT
from tests.e2e.conftest import COORDINATOR_ID, running_service, user
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

OFFICIAL_ID = 700_001


async def test_a_coordinator_sends_a_plan_document_and_gets_a_draft_plan_file(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    async with running_service(settings):
        how = await coordinator.send("/nhapkehoach")
        assert ".docx, .pdf" in how.text
        content = SEED_DOCUMENT.read_bytes()
        summary = await coordinator.send_document("ke-hoach-40.txt", content)
        assert "Đã đọc Kế hoạch số 40/KH-UBND" in summary.text, summary.text
        assert "Cần xem lại" in summary.text
        draft = await coordinator.next()
        assert draft.document_name is not None and draft.document_name.endswith(".yaml")
        assert draft.document_bytes is not None
        data = yaml.safe_load(draft.document_bytes.decode("utf-8"))
        assert data["status"] == "draft" and data["number"] == "40/KH-UBND"
        assert len(data["responsibilities"]) == 15


async def test_a_document_from_someone_else_is_not_read_as_a_plan(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    stranger = user(telegram_api, OFFICIAL_ID, "Người lạ")
    async with running_service(settings):
        answer = await stranger.send_document("ke-hoach.txt", SEED_DOCUMENT.read_bytes())
        assert "Đã đọc Kế hoạch" not in answer.text
        assert "chưa đọc được loại tin nhắn này" in answer.text


async def test_a_file_that_is_not_a_plan_gets_one_clear_line(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    async with running_service(settings):
        answer = await coordinator.send_document("ghi-chu.txt", "Chỉ là một dòng ghi chú.".encode())
        assert answer.text.startswith("Không đọc được kế hoạch từ tệp này:"), answer.text
