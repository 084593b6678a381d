"""Per-task results in /baocao: one question to skip them, then one task at a time (status
buttons or numbered options, a short result typed), stored with the status update."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.channels.zalo import render
from bot.dialog.core import DialogCore
from scheduler.reminders import CoordinatorAddress
from storage import plans, reports
from storage.database import Database
from storage.models import OutboxMessage, Plan, ReportStatus, StatusUpdate, Task, TaskResult
from storage.plan_file import PlanSpec
from storage.plan_loader import load_plan
from tests.conftest import SEED_PLAN_FILE
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.fixtures.seed_database import add_indicators
from tests.unit.test_dialog import COORDINATOR_ID, invite_code, register

RESULT = "đã tổ chức 3 lớp tập huấn, 120 lượt người"
SYT_TASKS = 3 + 12  # section IV.6 of the seed plan, then the shared tasks of section II


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))


@pytest.fixture
def core(seed_plan: Plan, clock: FakeClock) -> DialogCore:
    return dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)])


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID)


def start_report(chat: CoreChat, status: str = "Hoàn thành") -> None:
    chat.send("/baocao")
    chat.press("sơ kết")
    chat.press(status)


def finish_report(chat: CoreChat) -> None:
    chat.press("Bỏ qua")  # no note
    chat.press("Bỏ qua")  # no file
    chat.press("Gửi báo cáo")
    assert "Đã ghi nhận báo cáo" in chat.text(), chat.text()


def saved_results(database: Database) -> list[tuple[str, int, str, str | None]]:
    """(section, ordinal, status, result) of every task result stored, by task."""

    def read(session: Session) -> list[tuple[str, int, str, str | None]]:
        ids = [u.id for u in session.exec(select(StatusUpdate)) if u.id is not None]
        return [
            (task.section, task.ordinal, result.status.value, result.result)
            for result, task in reports.task_results_of(session, ids)
        ]

    return database.run_sync(read)


def test_a_focal_point_who_wants_only_the_overall_status_answers_one_question_more(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat)
    assert "Cập nhật kết quả từng nhiệm vụ?" in chat.text()
    assert f"{SYT_TASKS} nhiệm vụ (mục IV.6 và các nhiệm vụ chung của mục II)" in chat.text()
    assert [label for label, _ in chat.buttons()] == ["Có", "Bỏ qua"]
    chat.press("Bỏ qua")
    assert "Ghi chú ngắn" in chat.text()
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    assert "Nhiệm vụ" not in chat.text()
    chat.press("Gửi báo cáo")
    assert saved_results(database) == []


def test_tasks_go_one_at_a_time_with_status_buttons_and_a_short_result(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat)
    chat.press("Có")
    assert f"Nhiệm vụ 1/{SYT_TASKS} — mục IV.6, nhiệm vụ 1:" in chat.text()
    assert "«Đẩy mạnh công tác tuyên truyền nâng cao nhận thức" in chat.text()  # as the plan says
    labels = [label for label, _ in chat.buttons()]
    assert labels == [status.label for status in ReportStatus] + ["Bỏ qua", "Xong"]
    chat.press("Hoàn thành")
    assert "Kết quả ngắn của nhiệm vụ 1" in chat.text()
    chat.send(f"  {RESULT} ")
    assert f"Nhiệm vụ 2/{SYT_TASKS} — mục IV.6, nhiệm vụ 2:" in chat.text()
    chat.send("kiểm tra 45 cơ sở siêu âm")  # the result first: the status is asked next
    assert "Đã ghi kết quả: «kiểm tra 45 cơ sở siêu âm»" in chat.text()
    chat.press("Đang triển khai")
    assert f"Nhiệm vụ 3/{SYT_TASKS}" in chat.text()
    chat.press("Bỏ qua")
    assert f"Nhiệm vụ 4/{SYT_TASKS} — mục II.1, nhiệm vụ 1:" in chat.text()
    chat.press("Gặp vướng mắc")
    chat.press("Bỏ qua")  # no result for this one
    assert f"Nhiệm vụ 5/{SYT_TASKS} — mục II.1, nhiệm vụ 2:" in chat.text()
    chat.press("Xong")
    assert "Ghi chú ngắn" in chat.text()
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    summary = [
        f"• Nhiệm vụ 1 (mục IV.6): Hoàn thành — {RESULT}",
        "• Nhiệm vụ 2 (mục IV.6): Đang triển khai — kiểm tra 45 cơ sở siêu âm",
        "• Nhiệm vụ 1 (mục II.1): Gặp vướng mắc",
    ]
    assert "\n".join(summary) in chat.text()
    chat.press("Gửi báo cáo")
    assert saved_results(database) == [
        ("II.1", 1, "vuong_mac", None),
        ("IV.6", 1, "hoan_thanh", RESULT),
        ("IV.6", 2, "dang_trien_khai", "kiểm tra 45 cơ sở siêu âm"),
    ]
    notices = database.run_sync(lambda s: [m.text for m in s.exec(select(OutboxMessage))])
    assert len(notices) == 1 and "\n".join(summary) in notices[0]


def test_on_zalo_the_tasks_are_numbered_options(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = CoreChat(database, core, "zalo-2001", channel="zalo")
    chat.send(invite_code(coordinator, "SYT"))
    for answer in ("Nguyễn Thị Hoa", "Chuyên viên", "0912345678", "1"):
        chat.send(answer)
    for answer in ("/baocao", "1", "3"):  # the six-month report, Hoàn thành
        chat.send(answer)
    assert "  1. Có\n  2. Bỏ qua\nTrả lời bằng số thứ tự." in render(chat.last.replies[0])
    chat.send("1")
    shown = render(chat.last.replies[0])
    assert (
        "  1. Chưa triển khai\n  2. Đang triển khai\n  3. Hoàn thành\n  4. Gặp vướng mắc\n"
        "  5. Bỏ qua\n  6. Xong\nTrả lời bằng số thứ tự."
    ) in shown
    chat.send("3")
    assert "  1. Bỏ qua" in render(chat.last.replies[0])
    chat.send(RESULT)
    chat.send("5")  # Bỏ qua: task 2
    chat.send("hoàn thành")  # a label typed works as well as its number
    chat.send("1")  # Bỏ qua: no result for task 3
    chat.send("6")  # Xong
    assert "Ghi chú ngắn" in chat.text()
    chat.send("1")  # no note
    chat.send("1")  # no file
    assert f"• Nhiệm vụ 1 (mục IV.6): Hoàn thành — {RESULT}" in chat.text()
    assert "• Nhiệm vụ 3 (mục IV.6): Hoàn thành" in chat.text()
    chat.send("1")  # 📨 Gửi báo cáo
    assert [row[:3] for row in saved_results(database)] == [
        ("IV.6", 1, "hoan_thanh"),
        ("IV.6", 3, "hoan_thanh"),
    ]


def test_bad_answers_get_a_clear_message_and_keep_what_was_given(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat)
    yes = chat.payload_of("Có")
    chat.send("có lẽ")
    assert "Vui lòng chọn một trong các phương án" in chat.text()
    chat.press_payload(yes)
    done = chat.payload_of("Hoàn thành")
    chat.send_sticker()
    assert "nhãn dán" in chat.text()
    chat.send_file("bao-cao.pdf")
    assert "Tệp báo cáo được gửi ở bước sau" in chat.text()
    chat.send("   ")
    assert "Vui lòng chọn tình hình thực hiện nhiệm vụ" in chat.text()
    chat.press_payload(done)  # the question's buttons still answer it
    chat.send("x" * 501)
    assert "501 ký tự, tối đa 500" in chat.text()
    chat.send(" ")
    assert "Vui lòng gõ kết quả ngắn của nhiệm vụ" in chat.text()
    chat.send(RESULT)
    assert f"Nhiệm vụ 2/{SYT_TASKS}" in chat.text()
    chat.press("Xong")
    finish_report(chat)
    assert saved_results(database) == [("IV.6", 1, "hoan_thanh", RESULT)]


def test_editing_a_report_asks_the_tasks_again_and_forgets_the_earlier_answers(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat)
    chat.press("Có")
    chat.press("Hoàn thành")
    chat.send(RESULT)
    chat.press("Xong")
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    assert "Nhiệm vụ 1 (mục IV.6)" in chat.text()
    chat.press("Sửa lại")
    chat.press("Đang triển khai")
    chat.press("50%")
    assert "Cập nhật kết quả từng nhiệm vụ?" in chat.text()
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    chat.press("Bỏ qua")
    assert "Nhiệm vụ" not in chat.text() and "Tiến độ: 50%" in chat.text()
    chat.press("Gửi báo cáo")
    assert saved_results(database) == []


def test_a_report_keeps_its_task_results_when_a_later_report_comes(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    """Reports are append-only: each keeps what it said about the tasks."""
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat, "Đang triển khai")
    chat.press("50%")
    chat.press("Có")
    chat.press("Đang triển khai")
    chat.press("Bỏ qua")
    chat.press("Xong")
    finish_report(chat)
    start_report(chat)
    chat.press("Có")
    chat.press("Hoàn thành")
    chat.send(RESULT)
    chat.press("Xong")
    finish_report(chat)
    assert saved_results(database) == [
        ("IV.6", 1, "dang_trien_khai", None),
        ("IV.6", 1, "hoan_thanh", RESULT),
    ]


# --- storage ------------------------------------------------------------------------------------


def _syt_tasks(session: Session, plan: Plan) -> list[Task]:
    assert plan.id is not None
    return plans.tasks_of_section(session, plan_id=plan.id, section="IV.6")


def _report_with_results(session: Session, plan: Plan) -> int:
    """A report of Sở Y tế saying something about each of its three tasks."""
    assert plan.id is not None
    unit = plans.unit_by_code(session, plan_id=plan.id, code="SYT")
    period = plans.period_by_code(session, plan_id=plan.id, code="so-ket-6-thang")
    assert unit is not None and period is not None and period.id is not None
    update = reports.record_status_update(
        session,
        StatusUpdate(
            plan_id=plan.id,
            organisation_id=unit.organisation_id,
            period_id=period.id,
            channel="telegram",
            status=ReportStatus.IN_PROGRESS,
            progress=60,
            created_at=datetime(2021, 6, 1, 2, 0, tzinfo=UTC),
        ),
    )
    assert update.id is not None
    tasks = _syt_tasks(session, plan)
    reports.record_task_results(
        session,
        status_update_id=update.id,
        results={
            task.id: (status, result)
            for task, status, result in zip(
                tasks,
                [ReportStatus.DONE, ReportStatus.BLOCKED, ReportStatus.NOT_STARTED],
                [RESULT, "thiếu kinh phí", None],
                strict=True,
            )
            if task.id is not None
        },
    )
    return update.id


def test_task_results_are_stored_with_the_report_and_read_back_with_their_tasks(
    database: Database, seed_plan: Plan
) -> None:
    update_id = database.run_sync(_report_with_results, seed_plan)
    rows = database.run_sync(lambda s: reports.task_results_of(s, [update_id]))
    assert [(t.ordinal, r.status, r.result) for r, t in rows] == [
        (1, ReportStatus.DONE, RESULT),
        (2, ReportStatus.BLOCKED, "thiếu kinh phí"),
        (3, ReportStatus.NOT_STARTED, None),
    ]
    assert database.run_sync(lambda s: reports.task_results_of(s, [])) == []


def test_a_task_the_plan_file_drops_is_kept_retired_with_its_results(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    """Reports spoke of the task: its result is report data and stays; the task leaves the
    unit's list and frees its number."""
    update_id = database.run_sync(_report_with_results, seed_plan)
    items = [
        item.model_copy(update={"tasks": item.tasks[:2]}) if item.section == "IV.6" else item
        for item in seed_spec.responsibilities
    ]
    edited = seed_spec.model_copy(update={"responsibilities": items})
    database.run_sync(
        load_plan, edited, source_file=str(SEED_PLAN_FILE), now=datetime(2021, 6, 2, tzinfo=UTC)
    )
    rows = database.run_sync(lambda s: reports.task_results_of(s, [update_id]))
    assert [t.ordinal for _, t in rows][:2] == [1, 2]
    (kept, retired), *_ = [(r, t) for r, t in rows if t.ordinal < 0]
    assert kept.status == ReportStatus.NOT_STARTED and not retired.active
    assert database.run_sync(lambda s: len(s.exec(select(TaskResult)).all())) == 3
    assert database.run_sync(lambda s: len(_syt_tasks(s, seed_plan))) == 2


def test_the_tasks_come_after_the_plan_s_indicators(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    database.run_sync(add_indicators, seed_plan)
    chat = register(database, core, coordinator, user_id="2001")
    start_report(chat)
    assert "Chỉ tiêu «Tỷ lệ nữ đại biểu" in chat.text()
    chat.send("31,5")
    chat.press("Bỏ qua")  # the second indicator: no figure yet
    assert "Cập nhật kết quả từng nhiệm vụ?" in chat.text()
    chat.press("Có")
    chat.press("Hoàn thành")
    chat.send(RESULT)
    chat.press("Xong")
    finish_report(chat)
    notices = database.run_sync(lambda s: [m.text for m in s.exec(select(OutboxMessage))])
    assert "nhiệm kỳ 2021-2026: 31,5 %" in notices[0]
    assert f"• Nhiệm vụ 1 (mục IV.6): Hoàn thành — {RESULT}" in notices[0]
