"""Zalo updates go through the inbox (both backends): stored before they are acknowledged,
handled once in arrival order, kept through a crash, refused with 503 while too many wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.app import dialog_turn
from bot.channels.zalo import SECRET_HEADER, ZaloChannel
from bot.dialog.events import DialogResult, IncomingEvent, TextReply
from storage import inbox
from storage.database import Database
from storage.models import InboxState, InboxUpdate
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.fakes.zalo_bot_api import DEFAULT_TOKEN, FakeZaloBotApi

USER = "e4ea2cd5189df1c3a88c"
SECRET = "bi-mat-cua-webhook-123"
START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


class Core:
    """A stand-in for the dialog core that records events; ``hold`` keeps it busy."""

    def __init__(self) -> None:
        self.events: list[IncomingEvent] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.started = asyncio.Event()

    async def __call__(self, event: IncomingEvent) -> DialogResult:
        self.started.set()
        await self.hold.wait()
        self.events.append(event)
        return DialogResult(replies=[TextReply(f"Đã nhận: {event.text}")])


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZaloBotApi]:
    async with FakeZaloBotApi() as server:
        yield server
        assert server.validation_errors == [], server.validation_errors


@asynccontextmanager
async def zalo_channel(
    zalo_api: FakeZaloBotApi,
    database: Database,
    core: Callable[[IncomingEvent], Awaitable[DialogResult]],
    *,
    poll: bool = False,
    **options: Any,
) -> AsyncIterator[ZaloChannel]:
    channel = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=database,
        on_event=core,
        webhook_secret=SECRET,
        poll_timeout=1,
        error_backoff=(0.05, 0.2),
        **options,
    )
    await channel.start(poll=poll)
    try:
        yield channel
    finally:
        await channel.stop()


def body(text: str, message_id: str, user: str = USER) -> bytes:
    return json.dumps(
        {
            "event_name": "message.text.received",
            "message": {
                "message_id": message_id,
                "from": {"id": user, "display_name": "Nguyễn Thị Hoa"},
                "chat": {"id": user, "chat_type": "PRIVATE"},
                "date": 1766619597466,
                "text": text,
            },
        }
    ).encode()


async def post(channel: ZaloChannel, text: str, message_id: str, user: str = USER) -> int:
    return await channel.handle_webhook({SECRET_HEADER: SECRET}, body(text, message_id, user))


def rows(database: Database) -> list[tuple[str, InboxState]]:
    def read(session: Session) -> list[tuple[str, InboxState]]:
        found = session.exec(select(InboxUpdate).order_by(col(InboxUpdate.id))).all()
        return [(row.message_id, InboxState(row.state)) for row in found]

    return database.run_sync(read)


async def test_an_acknowledged_update_survives_a_crash_and_is_handled_at_the_next_start(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    """200 means stored: the process dies before handling it, the next start handles it."""
    stuck = Core()
    stuck.hold.clear()  # the first process never gets through its turn
    channel = ZaloChannel(
        token=DEFAULT_TOKEN,
        api_base_url=zalo_api.base_url,
        database=database,
        on_event=stuck,
        webhook_secret=SECRET,
    )
    await channel.start(poll=False)
    assert await post(channel, "Báo cáo gửi lúc sập máy", "m-1") == 200
    assert rows(database) == [("m-1", InboxState.PENDING)]  # stored before the answer
    await asyncio.wait_for(stuck.started.wait(), 5)
    await channel.stop(grace=0)  # the crash: the turn never committed
    assert stuck.events == [] and rows(database) == [("m-1", InboxState.PENDING)]

    core = Core()
    async with zalo_channel(zalo_api, database, core):
        reply = await zalo_api.next_bot_message(USER)
    assert reply.text == "Đã nhận: Báo cáo gửi lúc sập máy"
    assert [e.text for e in core.events] == ["Báo cáo gửi lúc sập máy"]
    assert [e.update_id for e in core.events] == ["m-1"]
    assert rows(database) == [("m-1", InboxState.DONE)]


async def test_the_webhook_answers_503_while_too_many_updates_wait(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    core = Core()
    core.hold.clear()
    async with zalo_channel(zalo_api, database, core, inbox_limit=2) as channel:
        assert await post(channel, "một", "m-1") == 200
        assert await post(channel, "hai", "m-2") == 200
        assert await post(channel, "ba", "m-3") == 503  # Zalo will try again later
        assert await post(channel, "một", "m-1") == 200  # a repeat of a stored one is fine
        core.hold.set()
        for _ in range(2):
            await zalo_api.next_bot_message(USER)
        assert await post(channel, "ba", "m-3") == 200
        await zalo_api.next_bot_message(USER)
    assert [e.text for e in core.events] == ["một", "hai", "ba"]
    assert [state for _, state in rows(database)] == [InboxState.DONE] * 3


async def test_updates_are_handled_once_in_arrival_order_whatever_zalo_repeats(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    core = Core()
    core.hold.clear()  # all arrive while the first is still being handled
    async with zalo_channel(zalo_api, database, core) as channel:
        for number in range(6):
            assert await post(channel, f"tin {number}", f"m-{number}") == 200
            assert await post(channel, f"tin {number}", f"m-{number}") == 200
        core.hold.set()
        for _ in range(6):
            await zalo_api.next_bot_message(USER)
    assert [e.text for e in core.events] == [f"tin {n}" for n in range(6)]


async def test_a_repeat_is_recognised_after_a_restart_when_polling_too(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    first = Core()
    async with zalo_channel(zalo_api, database, first, poll=True):
        zalo_api.user_sends_text(USER, "xin chào")
        await zalo_api.next_bot_message(USER)
    second = Core()
    async with zalo_channel(zalo_api, database, second, poll=True):
        zalo_api.redeliver(zalo_api.delivered_updates[-1])  # the same message, after a restart
        zalo_api.user_sends_text(USER, "lần hai")
        reply = await zalo_api.next_bot_message(USER)
    assert reply.text == "Đã nhận: lần hai"
    assert [e.text for e in first.events + second.events] == ["xin chào", "lần hai"]


async def test_a_turn_that_raised_is_answered_and_not_handled_again(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    class Broken(Core):
        async def __call__(self, event: IncomingEvent) -> DialogResult:
            raise RuntimeError("a bug")

    async with zalo_channel(zalo_api, database, Broken()) as channel:
        assert await post(channel, "gây lỗi", "m-1") == 200
        reply = await zalo_api.next_bot_message(USER)
    assert "bot gặp lỗi" in reply.text
    assert rows(database) == [("m-1", InboxState.FAILED)]
    async with zalo_channel(zalo_api, database, Core()):
        pass
    assert zalo_api.bot_messages(USER) == [reply]


async def test_handled_updates_are_forgotten_after_some_days_pending_ones_never(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    clock = FakeClock(START)
    core = Core()
    async with zalo_channel(zalo_api, database, core, clock=clock) as channel:
        assert await post(channel, "cũ", "m-old") == 200
        await zalo_api.next_bot_message(USER)
    now = START + timedelta(days=8)
    database.run_sync(
        inbox.store_update, channel="zalo", message_id="m-new", body="{}", now=now, limit=10
    )
    assert database.run_sync(inbox.prune, handled_before=now - timedelta(days=7)) == 1
    assert rows(database) == [("m-new", InboxState.PENDING)]


def test_a_dialog_turn_and_its_inbox_row_commit_together(database: Database) -> None:
    """The update is marked done in the transaction of its turn: a crash right after the
    commit cannot make it run twice, and a turn that fails leaves it pending."""
    clock = FakeClock(START)
    turn = dialog_turn(dialog_core(clock=clock), clock)
    for message_id in ("m-1", "m-2"):
        database.run_sync(
            inbox.store_update, channel="zalo", message_id=message_id, body="{}", now=START, limit=9
        )
    event = IncomingEvent.from_text(
        channel="zalo", user_id=USER, chat_id=USER, text="/huongdan", update_id="m-1"
    )
    result = database.run_sync(turn, event)
    assert result.replies
    assert rows(database) == [("m-1", InboxState.DONE), ("m-2", InboxState.PENDING)]

    def failing_turn(session: Session, event: IncomingEvent) -> None:
        turn(session, event)
        raise RuntimeError("the turn fails after the dialog's work")

    with pytest.raises(RuntimeError):
        database.run_sync(
            failing_turn,
            IncomingEvent.from_text(
                channel="zalo", user_id=USER, chat_id=USER, text="/huongdan", update_id="m-2"
            ),
        )
    assert rows(database) == [("m-1", InboxState.DONE), ("m-2", InboxState.PENDING)]


async def test_junk_posted_to_the_webhook_reaches_the_real_core_and_is_answered(
    zalo_api: FakeZaloBotApi, database: Database, seed_plan: object
) -> None:
    """NUL, lone surrogates, 10 kB of emoji, odd message ids, a number for a text: stored
    (JSON escapes what PostgreSQL could not hold), answered, and nothing fails."""
    clock = FakeClock(START)
    turn = dialog_turn(dialog_core(clock=clock), clock)

    async def on_event(event: IncomingEvent) -> DialogResult:
        return await database.run(turn, event)

    def raw(text: object, **message: object) -> bytes:
        sender = {"id": USER, "display_name": "\x00\ud800Hoa"}
        chat = {"id": USER, "chat_type": "PRIVATE"}
        content = {"from": sender, "chat": chat, "text": text, **message}
        return json.dumps({"event_name": "message.text.received", "message": content}).encode()

    bodies = [
        raw("xin\x00 chào\ud800", message_id="j-1"),
        raw("😀" * 5000, message_id="j-2"),
        raw("/tep 2147483648", message_id=12345),
        raw("/huongdan", message_id="không hợp lệ \x00 " * 20),
        raw("không có mã tin nhắn"),
        raw(42, message_id="j-3"),
    ]
    async with zalo_channel(zalo_api, database, on_event) as channel:  # as bot.app wires it
        for raw_body in bodies:
            assert await channel.handle_webhook({SECRET_HEADER: SECRET}, raw_body) == 200
        answers = [await zalo_api.next_bot_message(USER) for _ in bodies]
    assert all(answer.text and "bot gặp lỗi" not in answer.text for answer in answers)
    assert [state for _, state in rows(database)] == [InboxState.DONE] * len(bodies)


OTHER_USER = "9b1c77aa04d2e5f6a7b8"


async def test_a_slow_update_holds_up_only_its_own_chat_whose_next_waits_its_turn(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    class SlowForOne(Core):
        async def __call__(self, event: IncomingEvent) -> DialogResult:
            if event.chat_id == USER:
                return await super().__call__(event)
            self.events.append(event)
            return DialogResult(replies=[TextReply(f"Đã nhận: {event.text}")])

    core = SlowForOne()
    core.hold.clear()  # the first user's turn takes long (a workbook being written)
    async with zalo_channel(zalo_api, database, core) as channel:
        assert await post(channel, "chậm", "m-1") == 200
        assert await post(channel, "sau đó", "m-2") == 200
        await asyncio.wait_for(core.started.wait(), 5)
        assert await post(channel, "nhanh", "m-3", user=OTHER_USER) == 200
        reply = await zalo_api.next_bot_message(OTHER_USER)
        assert reply.text == "Đã nhận: nhanh"  # while the first chat still waits
        assert [e.text for e in core.events] == ["nhanh"]
        core.hold.set()
        answers = [(await zalo_api.next_bot_message(USER)).text for _ in range(2)]
    assert answers == ["Đã nhận: chậm", "Đã nhận: sau đó"]  # in the order they came
    assert [e.text for e in core.events] == ["nhanh", "chậm", "sau đó"]
    assert [state for _, state in rows(database)] == [InboxState.DONE] * 3


async def test_an_update_the_database_refused_is_handled_again_before_its_chats_next(
    zalo_api: FakeZaloBotApi, database: Database
) -> None:
    class Busy(Core):
        refusals = 2

        async def __call__(self, event: IncomingEvent) -> DialogResult:
            if event.text == "một" and self.refusals:
                self.refusals -= 1
                raise sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
            return await super().__call__(event)

    core = Busy()
    async with zalo_channel(zalo_api, database, core) as channel:
        assert await post(channel, "một", "m-1") == 200
        assert await post(channel, "hai", "m-2") == 200
        answers = [(await zalo_api.next_bot_message(USER)).text for _ in range(2)]
    assert answers == ["Đã nhận: một", "Đã nhận: hai"]
    assert core.refusals == 0 and [e.text for e in core.events] == ["một", "hai"]
    assert [state for _, state in rows(database)] == [InboxState.DONE] * 2
