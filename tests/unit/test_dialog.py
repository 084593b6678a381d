"""The dialog core, driven directly (no network): registration, reports, coordinator commands."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import dialog_routers
from bot.dialog import validation
from bot.dialog.core import DialogCore
from bot.dialog.events import (
    DialogResult,
    DocumentReply,
    IncomingEvent,
    TextReply,
    documents_to_make,
    make_documents,
    without_documents_to_make,
)
from scheduler.reminders import CoordinatorAddress
from storage import dialog_states, invites, people, plans, reports
from storage.database import Database
from storage.models import FocalPoint, OutboxMessage, Plan, ReportStatus, StatusUpdate
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core

COORDINATOR_ID = "1001"
INVITE_CODE = re.compile(r"^([A-Za-z0-9]{22})$", re.MULTILINE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))  # 10:00 in Thái Bình


@pytest.fixture
def core(seed_plan: Plan, clock: FakeClock) -> DialogCore:
    return dialog_core(
        clock=clock,
        coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)],
    )


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID, display_name="Cán bộ Sở LĐTBXH")


def invite_code(coordinator: CoreChat, agency_code: str) -> str:
    coordinator.send(f"/moi {agency_code}")
    match = INVITE_CODE.search(coordinator.text())
    assert match, coordinator.text()
    return match.group(1)


def register(
    database: Database,
    core: DialogCore,
    coordinator: CoreChat,
    *,
    user_id: str,
    agency_code: str = "SYT",
    name: str = "Nguyễn Thị Hoa",
) -> CoreChat:
    chat = CoreChat(database, core, user_id)
    chat.send(f"/start {invite_code(coordinator, agency_code)}")
    chat.send(name)
    chat.send("Chuyên viên phòng Kế hoạch")
    chat.send("0912 345 678")
    chat.press("Xác nhận")
    assert "Đăng ký thành công" in chat.text(), chat.text()
    return chat


def report(
    chat: CoreChat,
    *,
    deadline: str = "sơ kết",
    status: str = "Hoàn thành",
    progress: str | None = None,
    note: str | None = "Đã triển khai đủ các nội dung",
    file_name: str | None = None,
) -> None:
    chat.send("/baocao")
    chat.press(deadline)
    chat.press(status)
    if progress is not None:
        chat.send(progress)
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    if note is None:
        chat.press("Bỏ qua")
    else:
        chat.send(note)
    if file_name is None:
        chat.press("Bỏ qua")
    else:
        chat.send_file(file_name)
    chat.press("Gửi báo cáo")
    assert "Đã ghi nhận báo cáo" in chat.text(), chat.text()


# --- invites and registration -----------------------------------------------------------------


def test_coordinator_gets_a_deep_link_with_a_128_bit_single_use_code(
    coordinator: CoreChat, database: Database, seed_plan: Plan
) -> None:
    code = invite_code(coordinator, "syt")
    assert f"https://t.me/nhacviec_bot?start={code}" in coordinator.text()
    assert "Sở Y tế" in coordinator.text()
    invite = database.run_sync(invites.invite_by_code, code)
    assert invite is not None and invite.used_at is None
    assert invite.expires_at - invite.created_at == timedelta(days=7)


def test_focal_point_registers_with_name_position_and_phone(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "2001")
    chat.send(f"/start {invite_code(coordinator, 'SYT')}")
    assert "Sở Y tế" in chat.text() and "họ và tên" in chat.text()
    chat.send("  Nguyễn   Thị Hoa ")
    chat.send("Phó Trưởng phòng Nghiệp vụ Y")
    chat.send("+84 912.345.678")
    assert "0912345678" in chat.text() and "Nguyễn Thị Hoa" in chat.text()
    chat.press("Xác nhận")
    assert "Đăng ký thành công" in chat.text()
    assert "trước ngày 10/06/2021" in chat.text()
    member = database.run_sync(people.membership, channel="telegram", user_id="2001")
    assert member is not None
    assert member.organisation_name == "Sở Y tế" and member.full_name == "Nguyễn Thị Hoa"
    focal_point = database.run_sync(lambda session: session.get(FocalPoint, member.focal_point_id))
    assert focal_point is not None and focal_point.phone == "0912345678"


def test_an_invite_serves_one_person_only(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    code = invite_code(coordinator, "SYT")
    first = CoreChat(database, core, "2001")
    first.send(f"/start {code}")
    second = CoreChat(database, core, "2002")
    second.send(f"/start {code}")
    assert "đã được sử dụng" in second.text()
    assert database.run_sync(dialog_states.dialog_state, channel="telegram", user_id="2002") is None


def test_an_expired_invite_is_refused(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    code = invite_code(coordinator, "SYT")
    clock.advance(timedelta(days=7, minutes=1))
    chat = CoreChat(database, core, "2001")
    chat.send(f"/start {code}")
    assert "hết hạn" in chat.text()


def test_an_unknown_or_malformed_code_is_refused(database: Database, core: DialogCore) -> None:
    chat = CoreChat(database, core, "2001")
    chat.send("/start khong-co-ma-nay-dau-nhe")
    assert "Mã mời không đúng" in chat.text()
    chat.send("/start ' OR 1=1 --")
    assert "Mã mời không đúng" in chat.text()


def test_a_registered_official_cannot_register_twice(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send(f"/start {invite_code(coordinator, 'STP')}")
    assert "Bạn đã đăng ký là cán bộ đầu mối của Sở Y tế" in chat.text()


def test_an_invite_code_sent_as_a_plain_message_starts_registration(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "zalo-user-1", channel="zalo")
    chat.send(invite_code(coordinator, "TINHDOAN"))
    assert "Đoàn Thanh niên Cộng sản Hồ Chí Minh tỉnh" in chat.text()


def test_bad_registration_input_gets_a_clear_message_and_keeps_earlier_answers(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "2001")
    chat.send(f"/start {invite_code(coordinator, 'SYT')}")
    chat.send("   ")
    assert "không được để trống" in chat.text()
    chat.send("A" * 10_000)
    assert "10000 ký tự" in chat.text() and "tối đa 100" in chat.text()
    chat.send("Hoa 🌸🌸")
    assert "biểu tượng cảm xúc" in chat.text()
    chat.send("Trần Văn Bình")
    chat.send("Chuyên viên")
    chat.send("0123")
    assert "Số điện thoại chưa đúng" in chat.text()
    chat.send_sticker()
    chat.send("0227 3831 234")
    assert "Trần Văn Bình" in chat.text() and "02273831234" in chat.text()


def test_registration_can_be_redone_and_cancelled(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "2001")
    code = invite_code(coordinator, "SYT")
    chat.send(f"/start {code}")
    chat.send("Trần Văn Bình")
    chat.send("Chuyên viên")
    chat.send("0912345678")
    chat.press("Nhập lại")
    assert "Nhập lại từ đầu" in chat.text()
    chat.send("/huy")
    assert "Đã hủy" in chat.text()
    assert database.run_sync(people.membership, channel="telegram", user_id="2001") is None
    chat.send(f"/start {code}")  # cancelling freed the invite; the same person may reopen it
    assert "họ và tên" in chat.text()


def test_a_cancelled_registration_frees_the_invite_for_someone_else(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    """The coordinator forwarded the invite to the wrong colleague, who opened it and gave up."""
    code = invite_code(coordinator, "SYT")
    wrong = CoreChat(database, core, "2001")
    wrong.send(f"/start {code}")
    wrong.send("/huy")
    right = CoreChat(database, core, "2002")
    right.send(f"/start {code}")
    assert "họ và tên" in right.text()
    wrong.send(f"/start {code}")
    assert "đã được sử dụng" in wrong.text()


def test_on_zalo_a_newer_invite_code_sent_during_registration_replaces_the_first(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "zalo-user-1", channel="zalo")
    first = invite_code(coordinator, "SYT")
    chat.send(first)
    chat.send(invite_code(coordinator, "STP"))  # the coordinator sent the right one after all
    assert "Sở Tư pháp" in chat.text() and "họ và tên" in chat.text()
    someone = CoreChat(database, core, "zalo-user-2", channel="zalo")
    someone.send(first)  # the first invite is free again
    assert "Sở Y tế" in someone.text() and "họ và tên" in someone.text()


def test_a_registered_official_who_sends_an_invite_code_is_told_so(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="zalo-2001")
    chat.send(invite_code(coordinator, "STP"))
    assert "Bạn đã đăng ký là cán bộ đầu mối của Sở Y tế" in chat.text()


def test_invites_mention_only_the_channels_the_service_runs(
    database: Database, seed_plan: Plan, clock: FakeClock
) -> None:
    telegram_only = dialog_core(
        clock=clock,
        coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)],
        channels=["telegram"],
    )
    coordinator = CoreChat(database, telegram_only, COORDINATOR_ID)
    invite_code(coordinator, "SYT")
    assert "https://t.me/nhacviec_bot?start=" in coordinator.text()
    assert "Zalo" not in coordinator.text()
    official = register(database, telegram_only, coordinator, user_id="2001")
    official.send("/huongdan")
    assert "/ketnoi" not in official.text()
    official.send("/ketnoi")
    assert "chỉ chạy trên một kênh (Telegram)" in official.text()


# --- reports --------------------------------------------------------------------------------


def test_a_report_is_appended_as_a_status_update_and_the_coordinator_is_told(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    assert "Báo cáo sơ kết 6 tháng (trước ngày 10/06/2021)" in [
        label for label, _ in chat.buttons()
    ]
    chat.press("sơ kết")
    chat.press("Đang triển khai")
    chat.send("60%")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send("Đã tổ chức 3 lớp tập huấn 🎉👩‍👩‍👧")
    chat.send_file("bao-cao-so-ket.pdf", file_id="tg-file-42")
    assert "Tiến độ: 60%" in chat.text() and "bao-cao-so-ket.pdf" in chat.text()
    chat.press("Gửi báo cáo")
    assert "Đã ghi nhận báo cáo của Sở Y tế" in chat.text()

    report(chat, status="Hoàn thành", note=None)
    member = database.run_sync(people.membership, channel="telegram", user_id="2001")
    assert member is not None
    history = database.run_sync(
        reports.status_history, organisation_id=member.organisation_id, plan_id=seed_plan.id
    )
    assert [u.status for u in history] == [ReportStatus.DONE, ReportStatus.IN_PROGRESS]
    first = history[1]
    assert first.progress == 60
    assert first.note == "Đã tổ chức 3 lớp tập huấn 🎉👩‍👩‍👧"
    assert (first.file_id, first.file_name) == ("tg-file-42", "bao-cao-so-ket.pdf")
    assert history[0].progress == 100

    notices = database.run_sync(lambda s: list(s.exec(select(OutboxMessage))))
    assert len(notices) == 2
    assert all(n.chat_id == COORDINATOR_ID and "Sở Y tế vừa gửi báo cáo" in n.text for n in notices)
    assert notices[0].buttons is not None and "a.tep." in notices[0].buttons


def test_options_can_be_picked_by_number_or_by_typing_the_label(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.send("2")  # the second deadline
    assert "Báo cáo tổng kết năm" in chat.text()
    chat.send("chua trien khai")  # a label, typed without diacritics
    assert "Cập nhật kết quả từng nhiệm vụ?" in chat.text()
    chat.send("bo qua")
    assert "Ghi chú" in chat.text()


def test_a_problem_report_requires_a_note(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Gặp vướng mắc")
    chat.press("25%")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    assert "mô tả vướng mắc" in chat.text()
    assert chat.buttons() == []  # no «Bỏ qua» for a required note
    chat.send("   ")
    assert "không được để trống" in chat.text()
    chat.send("Chưa được cấp kinh phí tuyên truyền")
    chat.press("Bỏ qua")
    chat.press("Gửi báo cáo")
    assert "Đã ghi nhận" in chat.text()


def test_a_note_that_is_too_long_is_refused_and_the_report_so_far_is_kept(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Đang triển khai")
    chat.send("150")
    assert "từ 0 đến 100" in chat.text()
    chat.send("45")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send("x" * 10_000)
    assert "10000 ký tự" in chat.text() and "tối đa 2000" in chat.text()
    chat.send("Ghi chú ngắn")
    chat.press("Bỏ qua")
    assert "Tiến độ: 45%" in chat.text() and "Ghi chú ngắn" in chat.text()


def test_the_file_step_wants_a_file(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Hoàn thành")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.press("Bỏ qua")
    chat.send("đây là báo cáo")
    assert "cần một tệp" in chat.text()
    chat.send_sticker()
    assert "cần một tệp" in chat.text()
    chat.send_file("bc.docx")
    assert "Tệp: bc.docx" in chat.text()


def test_a_file_sent_with_a_caption_at_the_note_step_keeps_both(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Hoàn thành")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send_file("bc-so-ket.pdf", caption="Đã tập huấn 3 lớp, 120 người")
    assert "Ghi chú: Đã tập huấn 3 lớp, 120 người" in chat.text()
    assert "Tệp: bc-so-ket.pdf" in chat.text()


def test_a_problem_report_keeps_a_file_sent_before_its_note(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("vướng mắc")
    chat.send("30")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send_file("kien-nghi.pdf")
    assert "Đã nhận tệp" in chat.text() and "vướng mắc" in chat.text()
    chat.send("Thiếu kinh phí tổ chức tập huấn")
    assert "Tệp: kien-nghi.pdf" in chat.text()
    assert "Ghi chú: Thiếu kinh phí tổ chức tập huấn" in chat.text()


def test_on_zalo_the_file_step_says_only_photos_arrive(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    code = invite_code(coordinator, "SYT")
    chat = CoreChat(database, core, "zalo-2001", channel="zalo")
    chat.send(code)
    chat.send("Nguyễn Thị Hoa")
    chat.send("Chuyên viên")
    chat.send("0912345678")
    chat.send("1")
    chat.send("/baocao")
    chat.send("1")
    chat.send("Hoàn thành")
    chat.send("2")  # Bỏ qua (no task results)
    chat.send("1")  # Bỏ qua (no note)
    assert "bot chỉ nhận được ảnh" in chat.text()


@pytest.mark.parametrize("typed", ["1", " 1 ", "1.", "1)", "０１", "①"])
def test_an_option_number_may_be_typed_in_any_digits_a_phone_sends(
    database: Database, core: DialogCore, coordinator: CoreChat, typed: str
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.send(typed)
    assert "Báo cáo sơ kết 6 tháng: tình hình thực hiện của đơn vị?" in chat.text()


def test_a_half_done_report_expires_after_a_day_and_sends_nothing(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Hoàn thành")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    assert "Gửi báo cáo" in " ".join(label for label, _ in chat.buttons())
    clock.advance(timedelta(hours=25))
    chat.send("1")
    assert "quá 24 giờ" in chat.text()
    assert database.run_sync(lambda s: s.exec(select(StatusUpdate)).all()) == []
    chat.send("/baocao")  # a command just starts afresh
    assert "Chọn kỳ báo cáo" in chat.text()


def test_after_an_expired_conversation_a_new_invite_code_still_works(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    chat = CoreChat(database, core, "zalo-user-1", channel="zalo")
    chat.send(invite_code(coordinator, "SYT"))
    clock.advance(timedelta(hours=25))
    chat.send(invite_code(coordinator, "STP"))
    assert "Sở Tư pháp" in chat.text() and "họ và tên" in chat.text()


def test_the_cancel_button_of_registration_frees_the_invite(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    code = invite_code(coordinator, "SYT")
    wrong = CoreChat(database, core, "2001")
    wrong.send(f"/start {code}")
    wrong.send("Trần Văn Bình")
    wrong.send("Chuyên viên")
    wrong.send("0912345678")
    wrong.press("Hủy")
    right = CoreChat(database, core, "2002")
    right.send(f"/start {code}")
    assert "họ và tên" in right.text()


def test_editing_a_report_asks_for_the_file_again(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press("Hoàn thành")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send_file("bc.pdf", caption="Đã xong")
    chat.press("Sửa lại")
    chat.press("Hoàn thành")
    chat.press("Bỏ qua")  # «Cập nhật kết quả từng nhiệm vụ?»: not this time
    chat.send("Đã xong, bản sửa")
    assert "Gửi tệp báo cáo" in chat.text()
    chat.press("Bỏ qua")
    assert "Tệp: (không có)" in chat.text()


def test_a_unit_dropped_from_the_plan_can_no_longer_report(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    chat = register(database, core, coordinator, user_id="2001")

    def drop_agency(session: Session) -> None:
        assert seed_plan.id is not None
        unit = plans.unit_by_code(session, plan_id=seed_plan.id, code="SYT")
        assert unit is not None
        unit.active = False
        session.add(unit)

    database.run_sync(drop_agency)
    chat.send("/baocao")
    assert "chưa đăng ký" in chat.text()
    chat.send(f"/start {invite_code(coordinator, 'STP')}")  # registering anew is possible
    assert "Sở Tư pháp" in chat.text()


def test_a_late_report_says_it_is_late(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    clock.set(datetime(2021, 6, 10, 2, 0, tzinfo=UTC))  # 09:00 on 10/06, the first late day
    report(chat)
    assert "gửi sau hạn" in chat.text()


# --- buttons that must change nothing ----------------------------------------------------------


def test_a_button_from_an_earlier_step_is_stale_and_changes_nothing(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    old = chat.payload_of("sơ kết")
    chat.press("sơ kết")
    state_before = database.run_sync(dialog_states.dialog_state, channel="telegram", user_id="2001")
    chat.press_payload(old)
    assert "Nút này đã cũ" in chat.text()
    assert chat.last.notice is not None
    state_after = database.run_sync(dialog_states.dialog_state, channel="telegram", user_id="2001")
    assert state_before is not None and state_after is not None
    assert (state_after.step, state_after.token, state_after.data) == (
        state_before.step,
        state_before.token,
        state_before.data,
    )


@pytest.mark.parametrize(
    "payload",
    [
        "garbage",
        "s.zzzzzzzz.hoan_thanh",
        "a.bc.khong-co-han-nay",
        "a.tep.999999",
        "a.tep.1 OR 1=1",
        "a.xoa.SYT",
        "s." + "0" * 8 + ".hoan_thanh",
        "Báo cáo 🎉",
    ],
)
def test_forged_buttons_change_nothing(
    database: Database, core: DialogCore, coordinator: CoreChat, payload: str
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    before = database.run_sync(dialog_states.dialog_state, channel="telegram", user_id="2001")
    chat.press_payload(payload)
    assert "không hợp lệ" in chat.text() or "đã cũ" in chat.text()
    after = database.run_sync(dialog_states.dialog_state, channel="telegram", user_id="2001")
    assert before is not None and after is not None and after.token == before.token
    assert database.run_sync(lambda s: s.exec(select(StatusUpdate)).all()) == []


def test_a_valid_token_with_a_value_that_was_not_offered_is_refused(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    chat.send("/baocao")
    chat.press("sơ kết")
    token = chat.payload_of("Hoàn thành").split(".")[1]
    chat.press_payload(f"s.{token}.tong-ket-nam")
    assert "Nút không hợp lệ" in chat.text()


def test_another_users_button_is_stale_for_me(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    alice = register(database, core, coordinator, user_id="2001")
    bob = register(
        database, core, coordinator, user_id="2002", agency_code="STP", name="Lê Văn Bảo"
    )
    alice.send("/baocao")
    bob.send("/baocao")
    bob.press_payload(alice.payload_of("sơ kết"))
    assert "Nút này đã cũ" in bob.text()


# --- who may do what ----------------------------------------------------------------------


def test_coordinator_commands_are_refused_to_focal_points_and_strangers(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    focal = register(database, core, coordinator, user_id="2001")
    stranger = CoreChat(database, core, "9999")
    for command in ("/tonghop", "/quahan", "/donvi SYT", "/xuat", "/moi SYT", "/nhac SYT"):
        for chat in (focal, stranger):
            chat.send(command)
            assert "chỉ dành cho cán bộ điều phối" in chat.text(), (command, chat.text())
            assert chat.documents() == []
    stranger.send("/baocao")
    assert "chưa đăng ký" in stranger.text()
    coordinator.send("/baocao")
    assert "dành cho cán bộ đầu mối" in coordinator.text()


def test_a_focal_point_sees_only_their_own_agency(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    health = register(database, core, coordinator, user_id="2001")
    justice = register(
        database, core, coordinator, user_id="2002", agency_code="STP", name="Lê Văn Bảo"
    )
    report(justice, file_name="tu-phap.pdf")
    justice_update = database.run_sync(lambda s: s.exec(select(StatusUpdate)).one())
    health.send("/tinhhinh")
    assert "Sở Y tế" in health.text() and "Sở Tư pháp" not in health.text()
    assert "chưa nộp" in health.text()
    health.send("/nhiemvu")
    assert "giảm thiểu tình trạng mất cân bằng giới tính khi sinh" in health.text()
    assert "văn bản quy phạm pháp luật;" not in health.text()  # a Sở Tư pháp task
    health.press_payload(f"a.tep.{justice_update.id}")
    assert "Nút không hợp lệ" in health.text() and health.documents() == []
    justice.press_payload(f"a.tep.{justice_update.id}")
    assert [d.file_id for d in justice.documents()] == ["file-1"]


# --- the coordinator's views ----------------------------------------------------------------


def test_overview_is_an_agency_by_deadline_matrix_with_the_reporting_rate(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    report(chat)
    coordinator.send("/tonghop")
    text = coordinator.text()
    assert "đã nộp 1/21 (5%)" in text
    assert "✅⬜ Sở Y tế [SYT]" in text
    assert "⬜⬜ Sở Tư pháp [STP] · chưa có đầu mối" in text
    assert "Sở LĐTBXH [SLDTBXH]" not in text  # the coordinator does not report to itself
    assert "UBND H. Vũ Thư [VUTHU]" in text


def test_overdue_lists_who_has_not_reported_with_contacts_and_who_reports_problems(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    coordinator.send("/quahan")
    assert "Chưa có kỳ báo cáo nào quá hạn" in coordinator.text()
    health = register(database, core, coordinator, user_id="2001")
    justice = register(
        database, core, coordinator, user_id="2002", agency_code="STP", name="Lê Văn Bảo"
    )
    report(health, status="Gặp vướng mắc", progress="30", note="Thiếu kinh phí")
    clock.set(datetime(2021, 6, 11, 2, 0, tzinfo=UTC))
    coordinator.send("/quahan")
    text = coordinator.text()
    assert "Báo cáo sơ kết 6 tháng (hạn trước ngày 10/06/2021) — 20/21 đơn vị" in text
    assert "Sở Tư pháp [STP]: Lê Văn Bảo 0912345678" in text
    assert "Công an tỉnh [CAT]: chưa có đầu mối" in text
    assert "Sở Y tế [SYT]:" not in text
    assert "GẶP VƯỚNG MẮC" in text and "Thiếu kinh phí" in text
    del justice


def test_agency_history_shows_focal_points_and_reports_and_returns_files(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    report(chat, file_name="so-ket.pdf")
    coordinator.send("/donvi syt")
    text = coordinator.text()
    assert "Nguyễn Thị Hoa — Chuyên viên phòng Kế hoạch — 0912345678 (Telegram)" in text
    assert "Báo cáo sơ kết 6 tháng: Hoàn thành 100%" in text and "📎 so-ket.pdf" in text
    coordinator.press("so-ket.pdf")
    documents = coordinator.documents()
    assert len(documents) == 1 and documents[0].file_id == "file-1"
    assert documents[0].filename == "so-ket.pdf"


def test_commands_without_an_agency_code_offer_the_list(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    coordinator.send("/donvi")
    assert len(coordinator.buttons()) == 22
    coordinator.press("Công an tỉnh")
    assert "Công an tỉnh [CAT]" in coordinator.text()
    coordinator.send("/moi")
    coordinator.send("LDLD")
    assert "Liên đoàn Lao động tỉnh" in coordinator.text()
    coordinator.send("/donvi XYZ")
    assert "Không có đơn vị mã XYZ" in coordinator.text()


def test_the_export_is_made_after_its_turn_in_a_read_of_its_own(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    """/xuat's turn reads no history (on SQLite the turns run one after the other: a million
    rows read in one would hold up every chat); the workbook is made once it has committed,
    from what the database holds then."""
    chat = register(database, core, coordinator, user_id="2001")
    event = IncomingEvent.from_text(
        channel="telegram", user_id=coordinator.user_id, chat_id=coordinator.user_id, text="/xuat"
    )
    result = database.run_sync(core.handle, event)
    [document] = result.replies
    assert isinstance(document, DocumentReply) and document.content is None
    assert documents_to_make(result)
    report(chat, note="Gửi sau lệnh /xuat")  # another chat's turn in between

    made = database.run_sync(make_documents, result)

    [workbook_file] = made.replies
    assert isinstance(workbook_file, DocumentReply) and workbook_file.made_by is None
    assert not documents_to_make(made)
    history = load_workbook(io.BytesIO(workbook_file.content or b""))["Lịch sử báo cáo"]
    notes = [row[6] for row in history.iter_rows(min_row=2, values_only=True)]
    assert notes == ["Gửi sau lệnh /xuat"]


def test_a_file_that_could_not_be_made_is_a_note_saying_so() -> None:
    document = DocumentReply(filename="tong-hop.xlsx", made_by=lambda session: b"")
    result = DialogResult(replies=[TextReply("Trước"), document])

    noted = without_documents_to_make(result, "Chưa tạo được tệp «{name}».")

    assert noted.replies == [TextReply("Trước"), TextReply("Chưa tạo được tệp «tong-hop.xlsx».")]


def test_export_is_an_excel_workbook_where_typed_text_stays_text(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    report(chat, note='=HYPERLINK("http://x","bấm") 🎉')
    coordinator.send("/xuat")
    [document] = coordinator.documents()
    assert document.filename.endswith(".xlsx") and document.content is not None
    workbook = load_workbook(io.BytesIO(document.content))
    assert workbook.sheetnames == ["Tổng hợp", "Lịch sử báo cáo", "Đầu mối", "Nhiệm vụ", "Biểu đồ"]
    history = workbook["Lịch sử báo cáo"]
    note_cell = history.cell(row=2, column=7)
    assert note_cell.value == '=HYPERLINK("http://x","bấm") 🎉'
    assert note_cell.data_type == "s"
    summary_rows = [
        [cell for cell in row] for row in workbook["Tổng hợp"].iter_rows(values_only=True)
    ]
    health = next(row for row in summary_rows if row[1] == "SYT")
    assert health[5] == "Hoàn thành" and health[6] == 100 and health[8] == "Có"
    people = list(workbook["Đầu mối"].iter_rows(values_only=True))
    assert people[1][2:5] == ("Nguyễn Thị Hoa", "Chuyên viên phòng Kế hoạch", "0912345678")
    tasks = list(workbook["Nhiệm vụ"].iter_rows(values_only=True))
    assert len(tasks) - 1 == sum(1 for _ in tasks[1:])
    assert any(row[0] == "IV.15" and "UBND H. Vũ Thư" in str(row[2]) for row in tasks)


def test_coordinator_adds_a_unit_to_the_open_section(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    coordinator.send("/themdonvi Sở Công Thương")
    assert "Đã thêm Sở Công Thương vào mục IV.14 với mã SCT" in coordinator.text()
    coordinator.send("/themdonvi  sở công thương ")
    assert "đã có trong kế hoạch (mã SCT)" in coordinator.text()
    coordinator.send("/themdonvi")
    assert "Tên đơn vị phải có" in coordinator.text()
    coordinator.send("/moi SCT")
    assert INVITE_CODE.search(coordinator.text())
    coordinator.send("/tonghop")
    assert "Sở Công Thương [SCT]" in coordinator.text()


def test_nudge_and_broadcast_go_through_the_outbox(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    register(database, core, coordinator, user_id="2001")
    coordinator.send("/nhac CAT")
    assert "chưa có cán bộ đầu mối" in coordinator.text()
    coordinator.send("/nhac SYT")
    assert "Đã gửi lời nhắc tới 1 tài khoản" in coordinator.text()
    assert coordinator.last.outbox_queued == 1
    coordinator.send("/thongbao")
    assert "Cách dùng" in coordinator.text()
    coordinator.send("/thongbao " + "x" * 1600)
    assert "tối đa 1500" in coordinator.text()
    coordinator.send("/thongbao Họp giao ban lúc 14h thứ Sáu 🙏")
    assert "Đã gửi thông báo tới 1 tài khoản" in coordinator.text()
    rows = database.run_sync(lambda s: s.exec(select(OutboxMessage)).all())
    assert [r.rule for r in rows] == ["nhac", "thong-bao"]
    assert rows[1].text.endswith("Họp giao ban lúc 14h thứ Sáu 🙏")


# --- odds and ends ------------------------------------------------------------------------


def test_unknown_commands_and_empty_or_odd_messages_get_an_answer(
    database: Database, core: DialogCore
) -> None:
    chat = CoreChat(database, core, "2001")
    chat.send("/xoahet")
    assert "Không có lệnh /xoahet" in chat.text()
    chat.send("   ")
    assert "Tin nhắn trống" in chat.text()
    chat.send_sticker()
    assert "nhãn dán" in chat.text()
    chat.send("xin chào 👋")
    assert "Để đăng ký làm cán bộ đầu mối" in chat.text()
    chat.send("/huy")
    assert "Không có thao tác nào đang dở" in chat.text()
    assert all(isinstance(r, TextReply | DocumentReply) for r in chat.last.replies)


def test_a_conversation_survives_a_new_core_instance(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan, clock: FakeClock
) -> None:
    chat = CoreChat(database, core, "2001")
    chat.send(f"/start {invite_code(coordinator, 'SYT')}")
    chat.send("Nguyễn Thị Hoa")
    restarted = DialogCore(core.settings, dialog_routers())
    resumed = CoreChat(database, restarted, "2001")
    resumed.send("Chuyên viên")
    assert "Bước 3/3" in resumed.text()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+84 912.345.678", "0912345678"),
        ("+84 0912 345 678", "0912345678"),
        ("84 0912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("０９１２ ３４５ ６７８", "0912345678"),
        ("0227 3831 234", "02273831234"),
        ("+84 227 3831 234", "02273831234"),
    ],
)
def test_phone_numbers_are_read_the_ways_officials_write_them(typed: str, expected: str) -> None:
    assert validation.phone(typed) == expected


@pytest.mark.parametrize(
    "typed", ["60", "60%", "60 %", "khoảng 60%", "60 phần trăm", "60%.", "Đạt 60%", "６０"]
)
def test_progress_is_read_the_ways_officials_write_it(typed: str) -> None:
    assert validation.progress(typed) == 60


@pytest.mark.parametrize("typed", ["", "101", "-5", "năm mươi", "60% và 70%", "1e2"])
def test_progress_that_is_not_a_percentage_gets_a_clear_message(typed: str) -> None:
    with pytest.raises(validation.InputError, match="từ 0 đến 100"):
        validation.progress(typed)
