"""Upgrading from the previous release: a database of schema 0002 (one plan, agencies, deadlines)
is migrated when the service starts on it, and every focal point, report, invite and outbox row
is still there and usable — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from bot import texts
from bot.config import Settings
from storage.database import Database
from storage.models import (
    FocalPoint,
    Invite,
    MembershipState,
    OutboxMessage,
    PlanMembership,
    ReminderRun,
    StatusUpdate,
)
from tests.conftest import TEST_DATABASE_URL, active_seed_spec
from tests.e2e.conftest import (
    COORDINATOR_ID,
    SEED_PLAN_CODE,
    TelegramUser,
    ZaloUser,
    eventually,
    running_service,
    user,
)
from tests.e2e.release_0002 import (
    HEALTH_USER,
    JUSTICE_USER,
    LINK_CODE,
    PENDING_INVITE,
    QUEUED_TEXT,
    OldRows,
    fill_release_0002,
)
from tests.e2e.test_telegram_bot import reminder
from tests.e2e.test_zalo_bot import ZALO_OFFICIAL
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import FakeTelegramBotApi
from tests.fakes.zalo_bot_api import FakeZaloBotApi

POLICE_USER = 700_003


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL)"
                ),
            ],
        ),
    ]
)
def old_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for the previous release. On PostgreSQL a database of its own, not a
    schema: the service takes an advisory lock, which is per database, and other test runs may
    hold it at the same time."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nhacviec.db'}"
        return
    assert TEST_DATABASE_URL is not None
    name = f"nhacviec_upgrade_{secrets.token_hex(4)}"
    admin = sa.create_engine(Database(TEST_DATABASE_URL).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # template0 takes no connections: another session cannot make the copy fail
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rows_after(session: Session) -> dict[str, object]:
    """The rows the upgrade must keep, as the test compares them."""
    focal_points = session.exec(select(FocalPoint).order_by(col(FocalPoint.id))).all()
    memberships = session.exec(select(PlanMembership)).all()
    return {
        "focal_points": {fp.full_name: fp.id for fp in focal_points},
        "memberships": sorted((m.focal_point_id, MembershipState(m.state)) for m in memberships),
        "invite_codes": sorted(i.code for i in session.exec(select(Invite))),
        "outbox": {m.key: m.state for m in session.exec(select(OutboxMessage))},
        "status_updates": len(session.exec(select(StatusUpdate)).all()),
    }


async def test_the_service_starts_on_a_database_of_the_previous_release(
    telegram_api: FakeTelegramBotApi,
    zalo_api: FakeZaloBotApi,
    both_channels: Settings,
    old_database_url: str,
) -> None:
    old = fill_release_0002(old_database_url, active_seed_spec())
    settings = both_channels.model_copy(update={"database_url": old_database_url})
    clock = FakeClock(datetime(2021, 6, 8, 2, 0, tzinfo=UTC))  # 09:00 on Tuesday 08/06/2021
    # The previous release sent this reminder on 3 June; it kept no record of it but the outbox.
    sent_before = replace(reminder("5", clock.now), fire_at=clock.now)
    for user_id in (HEALTH_USER, JUSTICE_USER):  # they started the bot under that release
        telegram_api.add_user(user_id)
    health = user(telegram_api, HEALTH_USER, "Hoa")
    justice = user(telegram_api, JUSTICE_USER, "Bảo")
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    async with running_service(
        settings, clock=clock, occurrences={SEED_PLAN_CODE: [sent_before]}
    ) as service:
        queued = await justice.next()  # the row the previous release had queued
        assert queued.text == QUEUED_TEXT

        async def has_run() -> bool:
            runs = await service.database.run(lambda s: s.exec(select(ReminderRun)).all())
            return any(r.occurrence_key == sent_before.key for r in runs)

        await eventually(has_run)
        await asyncio.sleep(0.3)
        assert not [m for m in telegram_api.bot_messages(HEALTH_USER) if "NHẮC VIỆC" in m.text]
        assert len(telegram_api.bot_messages(JUSTICE_USER)) == 1  # nothing sent twice

        await check_people_and_reports(health, coordinator)
        await check_invites(telegram_api, zalo_api)
        after = await service.database.run(rows_after)
    check_rows_kept(old, after)


async def check_people_and_reports(health: TelegramUser, coordinator: TelegramUser) -> None:
    """The focal point is recognised and sees the old reports; so does the coordinator."""
    reports = await health.send("/tinhhinh")
    assert "Tình hình báo cáo của Sở Y tế — Kế hoạch số 40/KH-UBND" in reports.text, reports.text
    assert "• 10:00 01/06/2021 — Báo cáo sơ kết 6 tháng: Hoàn thành 100%" in reports.text
    assert "• 10:00 20/05/2021 — Báo cáo sơ kết 6 tháng: Đang triển khai 50%" in reports.text
    choose = await health.send("/baocao")
    assert "Báo cáo sơ kết 6 tháng (trước ngày 10/06/2021) — đã nộp" in choose.button_labels
    await health.send("/huy")
    page = await coordinator.send("/donvi SYT")
    assert "Nguyễn Thị Hoa — Chuyên viên phòng Nghiệp vụ Y — 0912345678 (Telegram)" in page.text
    history = page.text.split("Lịch sử báo cáo (mới nhất trước):")[1]
    assert history.index("Hoàn thành 100%") < history.index("Đang triển khai 50%"), page.text


async def check_invites(server: FakeTelegramBotApi, zalo: FakeZaloBotApi) -> None:
    """The invite still open registers Công an tỉnh; the /ketnoi code links a Zalo account."""
    police = user(server, POLICE_USER, "Công")
    welcome = await police.send(f"/start {PENDING_INVITE}")
    assert "Công an tỉnh" in welcome.text and "Bước 1/3" in welcome.text, welcome.text
    await police.send("Phạm Văn Công")
    await police.send("Cán bộ")
    confirm = await police.send("0901 234 567")
    done = await police.press(confirm, "Xác nhận")
    assert "Đăng ký thành công! Bạn là cán bộ đầu mối của Công an tỉnh" in done.text, done.text
    on_zalo = ZaloUser(zalo, ZALO_OFFICIAL, "Lê Văn Bảo")
    linked = await on_zalo.send(LINK_CODE)
    assert "Đã kết nối tài khoản Zalo này với cán bộ đầu mối Lê Văn Bảo" in linked.text, linked.text


def check_rows_kept(old: OldRows, after: dict[str, object]) -> None:
    """Every row of the previous release is there, with its id; only the new ones are added."""
    focal_points = after["focal_points"]
    assert isinstance(focal_points, dict)
    assert {name: focal_points[name] for name in old.focal_points} == old.focal_points
    assert len(focal_points) == len(old.focal_points) + 1  # Công an tỉnh
    assert after["memberships"] == sorted(
        (fp, MembershipState.JOINED) for fp in focal_points.values()
    )
    assert after["invite_codes"] == sorted(old.invite_codes)
    outbox = after["outbox"]
    assert isinstance(outbox, dict)
    assert {key: outbox[key] for key in old.outbox_keys} == {key: "sent" for key in old.outbox_keys}
    assert after["status_updates"] == old.status_updates


async def test_a_conversation_the_previous_release_left_open_is_dropped_with_a_clear_word(
    telegram_api: FakeTelegramBotApi, settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'release-0002.db'}"
    fill_release_0002(url, active_seed_spec())
    telegram_api.add_user(JUSTICE_USER)
    justice = user(telegram_api, JUSTICE_USER, "Bảo")
    clock = FakeClock(datetime(2021, 6, 8, 2, 0, tzinfo=UTC))
    upgraded = settings.model_copy(update={"database_url": url})
    async with running_service(upgraded, clock=clock) as service:
        assert (await justice.next()).text == QUEUED_TEXT
        answer = await justice.send("1")  # 📨 Gửi báo cáo, to the old release's question
        assert "chưa đăng ký" not in answer.text
        assert answer.text == texts.CONVERSATION_LOST
        reports = await service.database.run(lambda s: s.exec(select(StatusUpdate)).all())
        assert len(reports) == 2  # Sở Y tế's two: nothing half-done was saved
