"""A Telegram update delivered again is not handled again: its update_id is recorded as handled
in the transaction of its turn (the real python-telegram-bot stack against the fake Bot API
server)."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.config import Settings
from storage.database import Database
from storage.models import OutboxMessage, OutboxState
from tests.conftest import active_seed_file
from tests.e2e.conftest import COORDINATOR_ID, eventually, running_service, user
from tests.fakes.telegram_bot_api import FakeTelegramBotApi

INVITE_CODE = re.compile(r"\b([A-Za-z0-9]{22})\b")
OFFICIAL_ID = 700_101


def broadcasts(database: Database) -> list[OutboxMessage]:
    def read(session: Session) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.rule == "thong-bao")
        return list(session.exec(query.order_by(col(OutboxMessage.id))))

    return database.run_sync(read)


async def test_a_replayed_broadcast_update_queues_and_sends_nothing_twice(
    telegram_api: FakeTelegramBotApi, settings: Settings, tmp_path: Path
) -> None:
    """The service handled /thongbao, then died before Telegram learnt it had (the offset of
    the next getUpdates never went out): the next start gets the same update again."""
    settings = settings.model_copy(update={"plan_file": active_seed_file(tmp_path)})
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    official = user(telegram_api, OFFICIAL_ID, "Hoa")
    async with running_service(settings):
        invite = await coordinator.send("/moi SYT")
        code = INVITE_CODE.search(invite.text)
        assert code is not None, invite.text
        await official.send(f"/start {code.group(1)}")
        await official.send("Nguyễn Thị Hoa")
        await official.send("Chuyên viên")
        confirm = await official.send("0912 345 678")
        done = await official.press(confirm, "Xác nhận")
        assert "Đăng ký thành công" in done.text, done.text
        queued = await coordinator.send("/thongbao Họp giao ban sáng mai")
        assert queued.text == "Đã gửi thông báo tới 1 tài khoản cán bộ đầu mối."
        notice = await official.next()
        assert "Họp giao ban sáng mai" in notice.text
    sent_update = next(
        u["update_id"]
        for u in telegram_api.delivered_updates
        if u.get("message", {}).get("text", "").startswith("/thongbao")
    )
    telegram_api.redeliver(sent_update)

    answers_before = len(telegram_api.bot_messages(COORDINATOR_ID))
    async with running_service(settings) as service:

        async def confirmed() -> bool:  # the bot took the update and asked for the next ones
            return telegram_api.pending_updates == 0

        await eventually(confirmed)
        await coordinator.send("/huongdan")  # answered after the replayed update, if at all
        rows = broadcasts(service.database)
    assert [row.state for row in rows] == [OutboxState.SENT]  # nothing queued again
    received = [m for m in telegram_api.bot_messages(OFFICIAL_ID) if "Họp giao ban" in m.text]
    assert len(received) == 1
    answers = telegram_api.bot_messages(COORDINATOR_ID)[answers_before:]
    assert not any("Đã gửi thông báo" in m.text for m in answers), answers  # nor answered


async def test_old_update_ids_are_forgotten_once_an_hour_not_at_every_turn(
    telegram_api: FakeTelegramBotApi, settings: Settings, tmp_path: Path
) -> None:
    """The service as the command line wires it: the hourly prune of handled ids runs at the
    first turn and not at the next ones (it once ran on every update, a DELETE each time)."""
    settings = settings.model_copy(update={"plan_file": active_seed_file(tmp_path)})
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    prunes: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM INBOX"):
            prunes.append(statement)

    async with running_service(settings) as service:
        sa.event.listen(service.database.engine, "before_cursor_execute", count)
        for _ in range(3):
            assert "/tonghop" in (await coordinator.send("/huongdan")).text
    assert len(prunes) == 1, prunes
