"""The service end to end on Zalo beside Telegram: one dialog core, storage and scheduler."""

from __future__ import annotations

import re
import socket

from pydantic import SecretStr
from sqlmodel import select

from bot.app import utc_now
from bot.config import Settings
from scheduler.policy import ReminderKind, ReminderOccurrence
from storage.models import ChannelAccount, OutboxMessage, OutboxState, StatusUpdate
from tests.e2e.conftest import (
    COORDINATOR_ID,
    ZALO_COORDINATOR,
    ZaloUser,
    eventually,
    fire_now,
    running_service,
    user,
)
from tests.e2e.test_telegram_bot import OFFICIAL_ID, register
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.zalo_bot_api import FakeZaloBotApi

CODE = re.compile(r"^([A-Za-z0-9]{22})$", re.MULTILINE)
ZALO_OFFICIAL = "a1b2c3d4e5f6a7b8c9d0"


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match is not None, text
    return match.group(1)


def reminder(suffix: str) -> ReminderOccurrence:
    return ReminderOccurrence(
        fire_at=utc_now(),
        key=f"{ReminderKind.BEFORE_DEADLINE}:so-ket-6-thang:{suffix}",
        kind=ReminderKind.BEFORE_DEADLINE,
        subject="so-ket-6-thang",
        working_days=int(suffix),
    )


async def register_on_zalo(official: ZaloUser, code: str) -> None:
    welcome = await official.send(code)  # on Zalo the invite code is sent as a plain message
    assert "Bước 1/3" in welcome.text, welcome.text
    await official.send(official.display_name)
    await official.send("Chuyên viên phòng Công chức")
    confirm = await official.send("0987 654 321")
    assert "  1. ✅ Xác nhận" in confirm.text and "Trả lời bằng số thứ tự." in confirm.text
    done = await official.send("1")
    assert "Đăng ký thành công" in done.text, done.text


async def test_a_focal_point_registers_and_reports_on_zalo(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    zalo_coordinator = ZaloUser(zalo_api, ZALO_COORDINATOR, "Điều phối Zalo")
    official = ZaloUser(zalo_api, ZALO_OFFICIAL, "Trần Văn Bình")
    async with running_service(both_channels) as service:
        invite = await coordinator.send("/moi SNV")
        assert "bot Zalo «bot.NhacViec»" in invite.text
        await register_on_zalo(official, code_in(invite.text))

        choose = await official.send("/baocao")
        assert "  1. Báo cáo sơ kết 6 tháng (trước ngày 10/06/2021)" in choose.text
        await official.send("1")
        progress = await official.send("Đang triển khai")  # a label works as well as a number
        assert "(0% · 25% · 50% · 75% · 100%)" in progress.text
        await official.send("40")  # a percentage, not option number 40
        await official.send("2")  # Bỏ qua (no results task by task)
        await official.send("Đã rà soát các mô hình bình đẳng giới 👍")
        confirm = await official.send("1")  # Bỏ qua (no file)
        assert "Tiến độ: 40%" in confirm.text and "Tệp: (không có)" in confirm.text
        saved = await official.send("1")  # 📨 Gửi báo cáo
        assert "Đã ghi nhận báo cáo của Sở Nội vụ" in saved.text

        assert "Sở Nội vụ vừa gửi báo cáo" in (await coordinator.next()).text
        assert "Sở Nội vụ vừa gửi báo cáo" in (await zalo_coordinator.next()).text
        updates = await service.database.run(lambda s: s.exec(select(StatusUpdate)).all())
        assert [(u.channel, u.progress) for u in updates] == [("zalo", 40)]


async def test_a_coordinator_can_work_from_zalo(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    coordinator = ZaloUser(zalo_api, ZALO_COORDINATOR, "Điều phối Zalo")
    stranger = ZaloUser(zalo_api, "ffffeeeeddddccccbbbb", "Người lạ")
    async with running_service(both_channels):
        refused = await stranger.send("/tonghop")
        assert "chỉ dành cho cán bộ điều phối" in refused.text
        overview = await coordinator.send("/tonghop")
        assert "TỔNG HỢP BÁO CÁO" in overview.text and len(overview.text) <= 2000
        charts = await coordinator.next()  # Zalo takes no picture the bot made: one note
        assert "2 biểu đồ" in charts.text and "/tonghop trên Telegram" in charts.text
        picked = await coordinator.send("/donvi")
        assert "  1. Sở LĐTBXH" in picked.text
        detail = await coordinator.send("8")  # the 8th unit in plan order: Công an tỉnh
        assert "Công an tỉnh [CAT]" in detail.text
        export = await coordinator.send("/xuat")
        assert "Zalo chưa hỗ trợ gửi tệp" in export.text and ".xlsx" in export.text


async def test_reminders_reach_every_channel_a_focal_point_registered_on(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    on_telegram = user(telegram_api, OFFICIAL_ID)
    on_zalo = ZaloUser(zalo_api, ZALO_OFFICIAL, "Nguyễn Thị Hoa")
    async with running_service(both_channels) as service:
        await register(coordinator, on_telegram)
        link = await on_telegram.send("/ketnoi")
        assert "bot Zalo «bot.NhacViec»" in link.text
        linked = await on_zalo.send(code_in(link.text))
        assert "Đã kết nối tài khoản Zalo này với cán bộ đầu mối Nguyễn Thị Hoa" in linked.text
        accounts = await service.database.run(lambda s: s.exec(select(ChannelAccount)).all())
        assert sorted(a.channel for a in accounts) == ["telegram", "zalo"]
        assert len({a.focal_point_id for a in accounts}) == 1

        assert await fire_now(service, reminder("5")) == 2
        telegram_reminder = await on_telegram.next()
        zalo_reminder = await on_zalo.next()
        assert "NHẮC VIỆC — Sở Y tế" in telegram_reminder.text
        assert "NHẮC VIỆC — Sở Y tế" in zalo_reminder.text
        assert zalo_reminder.text.endswith("• 📝 Báo cáo ngay: gõ /baocao")
        status = await on_zalo.send("/baocao")  # the Zalo account reports for the same agency
        assert "Báo cáo của Sở Y tế" in status.text


async def test_zalo_delivery_is_retried_and_blocks_are_recorded(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = ZaloUser(zalo_api, ZALO_OFFICIAL, "Trần Văn Bình")
    async with running_service(both_channels) as service:
        invite = await coordinator.send("/moi SNV")
        await register_on_zalo(official, code_in(invite.text))
        zalo_api.fail_next("sendMessage", status=429)
        zalo_api.fail_next("sendMessage", status=502)
        await fire_now(service, reminder("5"))
        retried = await official.next()
        assert "Còn 5 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo." in retried.text
        assert [r.status for r in zalo_api.rejected_calls] == [429, 502]

        zalo_api.block_user(ZALO_OFFICIAL)
        await fire_now(service, reminder("2"))

        async def blocked() -> bool:
            rows = await service.database.run(lambda s: s.exec(select(OutboxMessage)).all())
            return any(r.state == OutboxState.BLOCKED for r in rows)

        await eventually(blocked)
        account = await service.database.run(
            lambda s: s.exec(select(ChannelAccount).where(ChannelAccount.channel == "zalo")).one()
        )
        assert account.blocked_at is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_webhook_mode_receives_updates_signed_with_the_secret(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    port = free_port()
    secret = "bi-mat-webhook-0123456789"
    settings = both_channels.model_copy(  # not validated: Zalo itself wants https:// here
        update={
            "zalo_webhook_url": f"http://127.0.0.1:{port}/zalo/webhook",
            "zalo_webhook_secret": SecretStr(secret),
            "zalo_webhook_listen": ("127.0.0.1", port),
        }
    )
    coordinator = user(telegram_api, COORDINATOR_ID)
    official = ZaloUser(zalo_api, ZALO_OFFICIAL, "Trần Văn Bình")
    async with running_service(settings):
        assert zalo_api.webhook == (settings.zalo_webhook_url, secret)
        invite = await coordinator.send("/moi SNV")
        await register_on_zalo(official, code_in(invite.text))
    assert zalo_api.get_updates_calls == 0  # everything came through the webhook


async def test_a_photo_reported_on_zalo_is_opened_on_zalo_by_typing_the_file_command(
    telegram_api: FakeTelegramBotApi, zalo_api: FakeZaloBotApi, both_channels: Settings
) -> None:
    coordinator = user(telegram_api, COORDINATOR_ID)
    zalo_coordinator = ZaloUser(zalo_api, ZALO_COORDINATOR, "Điều phối Zalo")
    official = ZaloUser(zalo_api, ZALO_OFFICIAL, "Trần Văn Bình")
    stranger = ZaloUser(zalo_api, "ffffeeeeddddccccbbbb", "Người lạ")
    async with running_service(both_channels):
        invite = await coordinator.send("/moi SNV")
        await register_on_zalo(official, code_in(invite.text))
        await official.send("/baocao")
        await official.send("1")
        await official.send("Hoàn thành")  # 100%: no progress question
        await official.send("2")  # Bỏ qua (no results task by task)
        await official.send("Đã tổ chức hội nghị tập huấn")
        zalo_api.user_sends_image(ZALO_OFFICIAL, "https://f.zalo/hoi-nghi.jpg")
        confirm = await official.next()
        assert "• Tệp: anh-zalo-" in confirm.text
        await official.send("1")
        on_telegram = await coordinator.next()  # Telegram has the button…
        assert on_telegram.button_labels == ["📎 Mở tệp báo cáo"]
        notice = await zalo_coordinator.next()  # …Zalo says what to type instead
        command = re.search(r"gõ (/tep \d+)", notice.text)
        assert command is not None, notice.text

        detail = await zalo_coordinator.send("/donvi SNV")
        assert "📎 anh-zalo-" in detail.text and f"gõ {command.group(1)}" in detail.text
        photo = await zalo_coordinator.send(command.group(1))
        assert (photo.method, photo.text) == ("sendPhoto", "Sở Nội vụ — Báo cáo sơ kết 6 tháng")
        assert photo.photo == "https://f.zalo/hoi-nghi.jpg"

        elsewhere = await coordinator.send(command.group(1))
        assert "Tệp này được gửi qua Zalo; hãy mở bằng Zalo." in elsewhere.text
        refused = await stranger.send(command.group(1))
        assert "Không có tệp báo cáo số" in refused.text
        status = await official.send("/tinhhinh")
        assert f"gõ {command.group(1)}" in status.text
        own = await official.send(command.group(1))
        assert own.method == "sendPhoto"
