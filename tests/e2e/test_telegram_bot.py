"""The service end to end on Telegram: python-telegram-bot against a local Bot API server that
validates every request against the official API description."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.app import build_service, utc_now
from bot.config import Settings
from bot.dialog import overview_render
from bot.logs import configure_logging
from scheduler.policy import ReminderKind, ReminderOccurrence
from storage import people
from storage.lock import ServiceLockHeld
from storage.models import ChannelAccount, OutboxMessage, OutboxState, PlanUnit, StatusUpdate
from tests.e2e.conftest import (
    COORDINATOR_ID,
    SEED_PLAN_CODE,
    TelegramUser,
    button_data,
    eventually,
    fire_now,
    running_service,
    user,
)
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

DEEP_LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9]{22})")
OFFICIAL_ID = 700_001


async def register(
    coordinator: TelegramUser,
    official: TelegramUser,
    *,
    agency: str = "SYT",
    name: str = "Nguyễn Thị Hoa",
) -> None:
    invite = await coordinator.send(f"/moi {agency}")
    link = DEEP_LINK.search(invite.text)
    assert link is not None, invite.text
    welcome = await official.send(f"/start {link.group(2)}")
    assert "họ và tên" in welcome.text
    await official.send(name)
    await official.send("Chuyên viên")
    confirm = await official.send("0912 345 678")
    done = await official.press(confirm, "Xác nhận")
    assert "Đăng ký thành công" in done.text, done.text


def reminder(key_suffix: str, fire_at: datetime) -> ReminderOccurrence:
    return ReminderOccurrence(
        fire_at=fire_at,
        key=f"{ReminderKind.BEFORE_DEADLINE}:so-ket-6-thang:{key_suffix}",
        kind=ReminderKind.BEFORE_DEADLINE,
        subject="so-ket-6-thang",
        working_days=int(key_suffix),
    )


async def test_register_report_and_the_coordinators_views(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    clock = FakeClock(datetime(2021, 6, 1, 2, 0, tzinfo=UTC))
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    official = user(telegram_api, OFFICIAL_ID, "Hoa")
    async with running_service(settings, clock=clock) as service:
        invite = await coordinator.send("/moi SYT")
        link = DEEP_LINK.search(invite.text)
        assert link is not None and link.group(1) == telegram_api.bot_username
        await official.send(f"/start {link.group(2)}")
        await official.send("Nguyễn Thị Hoa")
        await official.send("Chuyên viên phòng Nghiệp vụ Y")
        confirm = await official.send("0912 345 678")
        done = await official.press(confirm, "Xác nhận")
        assert "Đăng ký thành công! Bạn là cán bộ đầu mối của Sở Y tế" in done.text

        choose = await official.send("/baocao")
        status = await official.press(choose, "sơ kết")
        progress = await official.press(status, "Đang triển khai")
        tasks = await official.press(progress, "50%")
        note = await official.press(tasks, "Bỏ qua")  # no results task by task this time
        attach = await official.send("Đã tổ chức hội nghị tuyên truyền 🎉")
        confirm = await official.send_document("bao-cao-so-ket.pdf", b"%PDF-1.4 so ket")
        assert "Tệp: bao-cao-so-ket.pdf" in confirm.text and "Tiến độ: 50%" in confirm.text
        saved = await official.press(confirm, "Gửi báo cáo")
        assert "Đã ghi nhận báo cáo của Sở Y tế" in saved.text
        del note, attach

        notice = await coordinator.next()
        assert "Sở Y tế vừa gửi báo cáo" in notice.text
        document = await coordinator.press(notice, "Mở tệp")
        assert document.document_name == "bao-cao-so-ket.pdf"

        overview = await coordinator.send("/tonghop")
        assert "đã nộp 1/21 (5%)" in overview.text
        assert "🔄⬜ Sở Y tế [SYT] (50%)" in overview.text
        charts = [await coordinator.next() for _ in range(2)]  # the rate, the heat map
        assert [chart.method for chart in charts] == ["sendPhoto", "sendPhoto"]

        clock.set(datetime(2021, 6, 11, 2, 0, tzinfo=UTC))
        overdue = await coordinator.send("/quahan")
        assert "20/21 đơn vị" in overdue.text and "Sở Y tế [SYT]" not in overdue.text

        history = await coordinator.send("/donvi SYT")
        assert "Nguyễn Thị Hoa — Chuyên viên phòng Nghiệp vụ Y — 0912345678" in history.text

        export = await coordinator.send("/xuat")
        assert export.document_name is not None and export.document_name.endswith(".xlsx")
        assert export.document_bytes is not None
        workbook = load_workbook(io.BytesIO(export.document_bytes))
        rows = list(workbook["Lịch sử báo cáo"].iter_rows(values_only=True))
        assert rows[1][2] == "Sở Y tế" and rows[1][6] == "Đã tổ chức hội nghị tuyên truyền 🎉"

        updates = await service.database.run(lambda s: s.exec(select(StatusUpdate)).all())
        assert len(updates) == 1 and updates[0].file_name == "bao-cao-so-ket.pdf"


async def test_who_may_do_what(telegram_api: FakeTelegramBotApi, settings: Settings) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = user(telegram_api, OFFICIAL_ID)
    stranger = user(telegram_api, 900_009, "Lạ")
    async with running_service(settings):
        await register(coordinator, official)
        for command in ("/tonghop", "/xuat", "/moi SYT", "/donvi SYT", "/thongbao Xin chào"):
            for person in (official, stranger):
                answer = await person.send(command)
                assert "chỉ dành cho cán bộ điều phối" in answer.text, (command, answer.text)
        refused = await stranger.send("/baocao")
        assert "chưa đăng ký" in refused.text
        assert not [c for c in telegram_api.calls if c.method == "sendDocument"]
    menus = {
        json.loads(key)[0].get("chat_id"): [c["command"] for c in commands]
        for key, commands in telegram_api.commands.items()
    }
    assert "moi" not in menus[None] and "baocao" in menus[None]  # what everyone sees
    assert "moi" in menus[COORDINATOR_ID] and "tonghop" in menus[COORDINATOR_ID]


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = user(telegram_api, OFFICIAL_ID)
    async with running_service(settings) as service:
        invite = await coordinator.send("/moi SYT")
        link = DEEP_LINK.search(invite.text)
        assert link is not None
        await official.send(f"/start {link.group(2)}")
        assert "không được để trống" in (await official.send("   ")).text
        too_long = await official.send("Nguyễn " * 1500)
        assert "tối đa 100 ký tự" in too_long.text
        assert "biểu tượng cảm xúc" in (await official.send("👩‍💼👩‍💼")).text
        telegram_api.user_sends_sticker(official.user_id)
        assert "nhãn dán" in (await official.next()).text
        await official.send("Nguyễn Thị Hoa")
        await official.send("Chuyên viên")
        confirm = await official.send("0912345678")
        await official.press(confirm, "Xác nhận")

        choose = await official.send("/baocao")
        status = await official.press(choose, "sơ kết")
        for forged in ("s.00000000.hoan_thanh", "a.tep.1", "xyz", "a.bc.het-han-roi"):
            telegram_api.user_presses_button(official.user_id, status.message_id, forged)
            answer = await official.next()
            assert "không hợp lệ" in answer.text or "đã cũ" in answer.text, answer.text
        stale = button_data(choose, "sơ kết")
        telegram_api.user_presses_button(official.user_id, choose.message_id, stale)
        assert "đã cũ" in (await official.next()).text
        unknown = await official.send("/lenh_khong_co")
        assert "Không có lệnh /lenh_khong_co" in unknown.text

        updates = await service.database.run(lambda s: s.exec(select(StatusUpdate)).all())
        assert updates == []
        answered = [c for c in telegram_api.calls if c.method == "answerCallbackQuery"]
        assert answered and all(len(str(c.params.get("text", ""))) <= 200 for c in answered)


async def test_a_reply_longer_than_telegram_allows_is_split(
    telegram_api: FakeTelegramBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    async with running_service(settings):
        for number in range(70):
            added = await coordinator.send(
                f"/themdonvi Ban Quản lý dự án đầu tư xây dựng công trình số {number} tỉnh"
            )
            assert "Đã thêm" in added.text, added.text
        summary = await coordinator.send("/tonghop")  # 91 units: a summary in one message
        assert summary.text.startswith("📊 TỔNG HỢP BÁO CÁO") and len(summary.text) <= 4096
        assert "trang 1/" in summary.text and "Ký hiệu:" in summary.text
        charts = [await coordinator.next(), await coordinator.next()]
        assert [chart.method for chart in charts] == ["sendPhoto", "sendPhoto"]
        # The whole matrix of 91 units, as a plan of up to 30 gets it, is too long for one.
        monkeypatch.setattr(overview_render, "MATRIX_LIMIT", 100)
        telegram_api.user_sends_text(COORDINATOR_ID, "/tonghop")
        first = await coordinator.next()
        second = await coordinator.next()
        assert first.text.startswith("📊 TỔNG HỢP BÁO CÁO")
        assert len(first.text) <= 4096 and len(second.text) <= 4096
        assert "Ký hiệu:" in second.text


async def test_a_reply_hit_by_a_rate_limit_is_retried_and_the_user_not_told_to_redo_it(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    async with running_service(settings) as service:
        telegram_api.fail_next("sendMessage", status=429, retry_after=1)
        added = await coordinator.send("/themdonvi Sở Khoa học và Công nghệ")
        assert "Đã thêm" in added.text, added.text
        await asyncio.sleep(0.3)
        assert "gặp lỗi" not in " ".join(m.text for m in telegram_api.bot_messages(COORDINATOR_ID))
        agencies = await service.database.run(
            lambda s: [a.name for a in s.exec(select(PlanUnit)).all()]
        )
        assert agencies.count("Sở Khoa học và Công nghệ") == 1


async def test_a_reminder_fires_once_even_across_a_restart(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = user(telegram_api, OFFICIAL_ID)
    async with running_service(settings):
        await register(coordinator, official)

    due = {SEED_PLAN_CODE: [reminder("5", utc_now() + timedelta(seconds=1.5))]}
    async with running_service(settings, occurrences=due) as service:
        message = await official.next(within=15)
        assert "NHẮC VIỆC — Sở Y tế" in message.text
        assert "Còn 5 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo." in message.text
        status = await official.press(message, "Báo cáo ngay")
        assert "tình hình thực hiện" in status.text
        await asyncio.sleep(0.5)
        assert service.reminders.pending_job_ids() == []

    # Restarted moments later, the reminder that came due is planned again and runs again: the
    # outbox key makes it send nothing twice.
    async with running_service(settings, occurrences=due) as service:
        await asyncio.sleep(2.5)
        sent = [m for m in telegram_api.bot_messages(OFFICIAL_ID) if "NHẮC VIỆC" in (m.text or "")]
        assert len(sent) == 1
        rows = await service.database.run(lambda s: s.exec(select(OutboxMessage)).all())
        reminders = [r for r in rows if r.rule == ReminderKind.BEFORE_DEADLINE]
        assert len(reminders) == 1 and reminders[0].state == OutboxState.SENT


async def test_only_agencies_that_have_not_reported_are_reminded(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    health = user(telegram_api, OFFICIAL_ID)
    justice = user(telegram_api, OFFICIAL_ID + 1, "Bảo")
    async with running_service(settings) as service:
        await register(coordinator, health)
        await register(coordinator, justice, agency="STP", name="Lê Văn Bảo")
        choose = await health.send("/baocao")
        status = await health.press(choose, "sơ kết")
        tasks = await health.press(status, "Hoàn thành")
        note = await health.press(tasks, "Bỏ qua")
        attach = await health.press(note, "Bỏ qua")
        confirm = await health.press(attach, "Bỏ qua")
        await health.press(confirm, "Gửi báo cáo")
        await coordinator.next()  # the coordinator's notice of that report

        occurrence = reminder("2", utc_now())
        assert await fire_now(service, occurrence) == 1
        message = await justice.next()
        assert "NHẮC VIỆC — Sở Tư pháp" in message.text
        await asyncio.sleep(0.3)
        assert not [m for m in telegram_api.bot_messages(OFFICIAL_ID) if "NHẮC VIỆC" in m.text]


async def test_the_outbox_retries_rate_limits_and_server_errors_and_records_blocks(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = user(telegram_api, OFFICIAL_ID)
    async with running_service(settings) as service:
        await register(coordinator, official)

        async def fire(suffix: str) -> None:
            await fire_now(service, reminder(suffix, utc_now()))

        telegram_api.fail_next("sendMessage", status=429, retry_after=1)
        await fire("10")
        started = asyncio.get_running_loop().time()
        first = await official.next(within=10)
        assert "Còn 10 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo." in first.text
        assert asyncio.get_running_loop().time() - started >= 0.9

        telegram_api.fail_next("sendMessage", status=500, count=2)
        await fire("5")
        retried = await official.next(within=10)
        assert "Còn 5 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo." in retried.text
        assert [c.status for c in telegram_api.rejected_calls] == [429, 500, 500]

        telegram_api.block_user(OFFICIAL_ID)
        await fire("2")

        async def blocked() -> bool:
            rows = await service.database.run(lambda s: s.exec(select(OutboxMessage)).all())
            return any(r.state == OutboxState.BLOCKED for r in rows)

        await eventually(blocked)
        rows = await service.database.run(lambda s: s.exec(select(OutboxMessage)).all())
        by_key = {r.key.rsplit("/", 2)[1]: r for r in rows if r.rule != "bao-cao"}
        assert by_key["truoc-han:so-ket-6-thang:10"].attempts == 2
        assert by_key["truoc-han:so-ket-6-thang:5"].attempts == 3
        assert by_key["truoc-han:so-ket-6-thang:2"].state == OutboxState.BLOCKED
        account = await service.database.run(lambda s: s.exec(select(ChannelAccount)).one())
        assert account.blocked_at is not None
        await fire("1")  # nobody reachable: nothing is queued for a blocked account
        rows = await service.database.run(lambda s: s.exec(select(OutboxMessage)).all())
        assert not any(r.key.endswith(f"so-ket-6-thang:1/telegram:{OFFICIAL_ID}") for r in rows)


async def test_a_conversation_resumes_after_a_restart(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = user(telegram_api, OFFICIAL_ID)
    async with running_service(settings):
        invite = await coordinator.send("/moi SYT")
        link = DEEP_LINK.search(invite.text)
        assert link is not None
        await official.send(f"/start {link.group(2)}")
        await official.send("Nguyễn Thị Hoa")
    async with running_service(settings) as service:
        asked = await official.send("Chuyên viên")
        assert "Bước 3/3" in asked.text
        confirm = await official.send("0912345678")
        done = await official.press(confirm, "Xác nhận")
        assert "Đăng ký thành công" in done.text
        member = await service.database.run(
            people.membership, channel="telegram", user_id=str(OFFICIAL_ID)
        )
        assert member is not None and member.full_name == "Nguyễn Thị Hoa"


async def test_two_services_cannot_share_one_database(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    async with running_service(settings):
        with pytest.raises(ServiceLockHeld):
            await asyncio.to_thread(build_service, settings)


async def test_the_token_never_reaches_the_log_even_at_debug_level(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_logging("DEBUG", settings.secrets)
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        coordinator = user(telegram_api, COORDINATOR_ID)
        official = user(telegram_api, OFFICIAL_ID)
        async with running_service(settings):
            await register(coordinator, official)
            telegram_api.fail_next("sendMessage", status=500)
            telegram_api.user_sends_text(OFFICIAL_ID, "/tinhhinh")  # fails, gets logged
            await official.next()  # the apology after the error
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    log = stream.getvalue()
    assert "getUpdates" in log  # PTB logged its requests…
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() not in log  # …without the token
