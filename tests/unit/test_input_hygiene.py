"""What users send is cleaned where every event is built, numbers they name are bounded, and
what is saved saves the same on PostgreSQL and SQLite (NUL bytes, huge ids, link codes)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from telegram import Chat, Message, User

from bot.channels.console import ConsoleChannel
from bot.channels.telegram import event_from_message
from bot.channels.zalo import event_from_update
from bot.dialog import validation
from bot.dialog.core import DialogCore
from bot.dialog.events import Attachment, DialogResult, IncomingEvent, clean_input
from scheduler.reminders import CoordinatorAddress
from storage import people
from storage.database import Database
from storage.models import (
    ChannelAccount,
    FocalPoint,
    Organisation,
    OutboxMessage,
    Plan,
    StatusUpdate,
)
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.unit.test_dialog import COORDINATOR_ID, invite_code, register, report

T = TypeVar("T")

DIRTY = "Chuyên\x00 viên\x07 phòng\r\nKế\ud800 hoạch\ufffe\U0010ffff\x85"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))


@pytest.fixture
def core(seed_plan: Plan, clock: FakeClock) -> DialogCore:
    return dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)])


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID, display_name="Cán bộ Sở LĐTBXH")


# --- one place: the event ---------------------------------------------------------------------


def test_control_characters_surrogates_and_noncharacters_go_line_breaks_and_tabs_stay() -> None:
    assert clean_input(DIRTY) == "Chuyên viên phòng\nKế hoạch"
    assert clean_input("a\tb\nc\rd") == "a\tb\nc\nd"
    kept = "Sở Y tế 👩\u200d👩\u200d👧 \u200fعربي\u200e \u200b"  # joiners, RTL marks: text
    assert clean_input(kept) == kept


def test_every_field_of_an_event_is_cleaned_however_it_is_built() -> None:
    typed = IncomingEvent.from_text(
        channel="telegram",
        user_id="1",
        chat_id="1",
        text="/thongbao\x00 Họp\x00 giao ban\x01",
        display_name="Nguyễn\x00 Thị\nHoa",
    )
    assert (typed.command, typed.args, typed.rest) == (
        "thongbao",
        ("Họp", "giao", "ban"),
        ("Họp giao ban"),
    )
    assert typed.display_name == "Nguyễn Thị Hoa"
    pressed = IncomingEvent(
        channel="telegram", user_id="1", chat_id="1", payload="a.tep.\x001", args=("\x00", "x")
    )
    assert (pressed.payload, pressed.args) == ("a.tep.1", ("x",))
    caption = IncomingEvent(
        channel="telegram",
        user_id="1",
        chat_id="1",
        text="ghi\x00chú",
        attachment=Attachment("f1", "bao\x00cao" + "x" * 400 + ".pdf", "application/pdf\x00"),
    )
    assert caption.text == "ghichú" and caption.attachment is not None
    assert caption.attachment.file_name is not None
    assert len(caption.attachment.file_name) == 300
    assert caption.attachment.file_name.startswith("baocao")
    assert caption.attachment.file_name.endswith(".pdf")
    assert caption.attachment.mime_type == "application/pdf"
    assert len(IncomingEvent("zalo", "1", "1", display_name="Hoa" * 200).display_name) == 200


def test_every_adapter_hands_over_clean_events() -> None:
    sender = User(id=7, first_name="Hoa\x00", last_name="Nguyễn\x1b", is_bot=False)
    chat = Chat(id=7, type="private")
    when = datetime(2021, 5, 20, tzinfo=UTC)
    telegram = event_from_message(
        Message(1, when, chat, from_user=sender, text="/tep\x00 12\x00"), 99
    )
    assert telegram is not None
    assert (telegram.command, telegram.args, telegram.display_name, telegram.update_id) == (
        "tep",
        ("12",),
        "Hoa Nguyễn",
        "99",
    )
    zalo = event_from_update(
        {
            "event_name": "message.text.received",
            "message": {
                "message_id": "m1",
                "from": {"id": "z1", "display_name": "Hoa\x00"},
                "chat": {"id": "z1", "chat_type": "PRIVATE"},
                "text": "xin\x00 chào\ud83d",
            },
        }
    )
    assert zalo is not None and (zalo.text, zalo.display_name) == ("xin chào", "Hoa")
    seen: list[IncomingEvent] = []

    async def on_event(event: IncomingEvent) -> DialogResult:
        seen.append(event)
        return DialogResult()

    console = ConsoleChannel(on_event=on_event, output=io.StringIO())
    asyncio.run(console.handle_line("ghi\x00 chú\x7f\n"))
    assert [e.text for e in seen] == ["ghi chú"] and seen[0].update_id is None


@pytest.mark.parametrize(
    ("typed", "number"),
    [("2147483647", 2**31 - 1), ("2147483648", None), ("999999999999", None), ("０１", 1)],
)
def test_whole_numbers_stop_where_an_integer_column_does(typed: str, number: int | None) -> None:
    assert validation.whole_number(typed) == number


# --- what is saved saves on both backends -------------------------------------------------------


def rows_of(database: Database, model: type[T], *where: sa.ColumnElement[bool]) -> list[T]:
    def read(session: Session) -> list[T]:
        return list(session.exec(select(model).where(*where)))

    return database.run_sync(read)


def test_a_nul_in_a_position_a_note_a_broadcast_or_a_unit_name_saves_stripped(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "2001", display_name="Hoa\x00")
    chat.send(f"/start {invite_code(coordinator, 'SYT')}")
    chat.send("Nguyễn\x00 Thị Hoa")
    chat.send("Chuyên\x00 viên")
    chat.send("0912\x00 345 678")
    chat.press("Xác nhận")
    assert "Đăng ký thành công" in chat.text(), chat.text()
    report(chat, note="Đã\x00 triển khai\x00 xong")
    coordinator.send("/thongbao Họp\x00 giao ban\x00")
    assert "Đã gửi thông báo tới 1" in coordinator.text(), coordinator.text()
    coordinator.send("/themdonvi Sở Công\x00 Thương")
    assert "SCT" in coordinator.text(), coordinator.text()

    [focal_point] = rows_of(database, FocalPoint)
    assert (focal_point.full_name, focal_point.position) == ("Nguyễn Thị Hoa", "Chuyên viên")
    [update] = rows_of(database, StatusUpdate)
    assert update.note == "Đã triển khai xong"
    [notice] = rows_of(database, OutboxMessage, col(OutboxMessage.rule) == "thong-bao")
    assert notice.text.endswith("Họp giao ban")
    [added] = rows_of(database, Organisation, col(Organisation.code) == "SCT")
    assert added.name == "Sở Công Thương"


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        ("/tep 2147483648", "Không có tệp báo cáo số 2147483648"),
        ("/tep 999999999999", "Không có tệp báo cáo số 999999999999"),
        ("a.tep.999999999999", "Nút không hợp lệ"),
        ("a.bc.99999999999", "Nút không hợp lệ"),
        ("a.tg.99999999999", "Kế hoạch này không còn mời đơn vị của bạn"),
    ],
)
def test_an_id_over_what_a_column_holds_is_simply_not_found(
    database: Database, core: DialogCore, coordinator: CoreChat, send: str, expected: str
) -> None:
    """On PostgreSQL these used to end in the generic error, for anyone."""
    member = register(database, core, coordinator, user_id="2001")
    for chat in (member, coordinator):
        replies = chat.press_payload(send) if send.startswith("a.") else chat.send(send)
        assert replies, send  # an answer, for the coordinator too, and no error
    assert expected in (member.last.notice or member.text()), (member.last, send)


# --- /ketnoi links an account of ANOTHER channel ----------------------------------------------


def test_a_link_code_links_only_an_account_of_another_channel(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    member = register(database, core, coordinator, user_id="2001")
    member.send("/ketnoi")
    code = next(word for word in member.text().split() if len(word) == 22)
    stranger = CoreChat(database, core, "2002")  # another Telegram account
    stranger.send(f"/start {code}")
    assert "gửi nó cho bot trên kênh kia" in stranger.text(), stranger.text()
    member.send(code)
    assert "Bạn đã đăng ký là cán bộ đầu mối" in member.text(), member.text()
    assert database.run_sync(people.membership, channel="telegram", user_id="2002") is None

    # On Zalo, an account the bot knew already (a focal point who left) is linked too.
    register(database, core, coordinator, user_id="z-old", agency_code="SGDDT")
    database.run_sync(_move_to_zalo_and_retire, user_id="z-old")
    zalo = CoreChat(database, core, "z-old", channel="zalo")
    zalo.send(code)
    assert "Đã kết nối tài khoản Zalo" in zalo.text(), zalo.text()
    linked = database.run_sync(people.membership, channel="zalo", user_id="z-old")
    assert linked is not None and linked.organisation_name == "Sở Y tế"
    zalo_again = CoreChat(database, core, "z-2", channel="zalo")
    zalo_again.send(code)
    assert "đã được sử dụng" in zalo_again.text(), zalo_again.text()


def _move_to_zalo_and_retire(session: Session, *, user_id: str) -> None:
    """The account becomes a Zalo one of a focal point who no longer serves."""
    account = session.exec(select(ChannelAccount).where(ChannelAccount.user_id == user_id)).one()
    account.channel = "zalo"
    focal_point = session.get(FocalPoint, account.focal_point_id)
    assert focal_point is not None
    focal_point.active = False
    session.add_all([account, focal_point])


def test_a_unit_named_with_any_letters_gets_a_code_buttons_can_carry(
    database: Database, coordinator: CoreChat
) -> None:
    """Found by the adversarial test: a code with "①" or "Ð" made every picker of the
    coordinator fail (a button payload must be ASCII)."""
    coordinator.send("/themdonvi Ban ① Ðặc biệt Ｑuận")
    assert "Đã thêm" in coordinator.text(), coordinator.text()
    [added] = rows_of(database, Organisation, col(Organisation.name) == "Ban ① Ðặc biệt Ｑuận")
    assert added.code.isascii() and added.code.isalnum(), added.code
    coordinator.send("/donvi")
    assert any(payload.endswith(added.code) for _, payload in coordinator.buttons())
