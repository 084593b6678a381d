"""Many plans at once, driven through the dialog core (no network), on both backends.

A focal point registered under the 2021 plan is asked about a new multi-year plan that names
their organisation, joins with one tap, and reports for a period of the new plan with its
indicator; coordinators pick the plan a command works on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from bot.dialog.core import DialogCore
from bot.dialog.plan_membership import offer_plan
from bot.texts import CONVERSATION_LOST
from scheduler.reminders import CoordinatorAddress
from storage import people, plans
from storage.database import Database
from storage.models import (
    DialogState,
    IndicatorValue,
    MembershipState,
    OutboxMessage,
    Plan,
    PlanMembership,
    StatusUpdate,
)
from storage.plan_file import parse_plan
from storage.plan_loader import load_plan
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core

COORDINATOR_ID = "1001"
INVITE_CODE = re.compile(r"^([A-Za-z0-9]{22})$", re.MULTILINE)

SECOND_PLAN = """
format: 2
code: thu-nghiem-2026-2030
status: active
number: 99/KH-UBND
title: Kế hoạch thực hiện bình đẳng giới giai đoạn 2026-2030
issuer: Ủy ban nhân dân tỉnh Hưng Yên
province: Hưng Yên
issued_on: 2026-02-20
timezone: Asia/Ho_Chi_Minh
coordinator: SLDTBXH
period: {from: 2026, to: 2030}
responsibilities:
  - section: IV.1
    heading: Sở Lao động - Thương binh và Xã hội
    kind: department
    units: [{code: SLDTBXH, name: Sở Lao động - Thương binh và Xã hội, short_name: Sở LĐTBXH}]
    tasks: [Chủ trì, tổng hợp báo cáo.]
  - section: IV.2
    heading: Sở Y tế
    kind: department
    units: [{code: SYT, name: Sở Y tế, short_name: Sở Y tế}]
    tasks: [Tổ chức truyền thông về bình đẳng giới trong ngành y tế.]
  - section: IV.3
    heading: Sở Tư pháp
    kind: department
    units: [{code: STP, name: Sở Tư pháp, short_name: Sở Tư pháp}]
    tasks: [Lồng ghép bình đẳng giới trong xây dựng văn bản.]
reports:
  - code: nam
    title: Báo cáo kết quả thực hiện năm
    every: year
    due: 10/12
indicators:
  - code: nu-lanh-dao
    name: Tỷ lệ nữ cán bộ lãnh đạo
    unit: "%"
    target: 30
    reported_by: [SYT]
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))


@pytest.fixture
def core(seed_plan: Plan, clock: FakeClock) -> DialogCore:
    return dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)])


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID)


def invite_code(coordinator: CoreChat, command: str) -> str:
    coordinator.send(command)
    match = INVITE_CODE.search(coordinator.text())
    assert match, coordinator.text()
    return match.group(1)


def register(database: Database, core: DialogCore, code: str, user_id: str) -> CoreChat:
    chat = CoreChat(database, core, user_id)
    chat.send(f"/start {code}")
    chat.send("Nguyễn Thị Hoa")
    chat.send("Chuyên viên")
    chat.send("0912345678")
    chat.press("Xác nhận")
    assert "Đăng ký thành công" in chat.text(), chat.text()
    return chat


def second_plan(database: Database, seed_plan: Plan, *, ended_seed: bool = True) -> Plan:
    """The new plan arrives; the 2021 plan has ended by then (as in 2026)."""

    def load(session: Session) -> Plan:
        if ended_seed:
            old = session.get(Plan, seed_plan.id)
            assert old is not None
            old.status = "ended"  # type: ignore[assignment]
            session.add(old)
        spec = parse_plan(SECOND_PLAN, "thu-nghiem.yaml")
        return load_plan(
            session, spec, source_file="thu-nghiem.yaml", now=datetime(2026, 3, 1, tzinfo=UTC)
        )

    return database.run_sync(load)


def offers(database: Database, plan: Plan) -> list[OutboxMessage]:
    def queue(session: Session) -> list[OutboxMessage]:
        offer_plan(session, plan=plan, now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.rule == "moi-ke-hoach")))

    return database.run_sync(queue)


def test_a_focal_point_of_2021_joins_a_new_plan_with_one_tap_and_reports_with_its_indicator(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan, clock: FakeClock
) -> None:
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")
    new = second_plan(database, seed_plan)
    [offer] = offers(database, new)
    assert "99/KH-UBND" in offer.text and "Sở Y tế" in offer.text and offer.chat_id == "2001"
    assert offers(database, new) == [offer]  # asked once, however often the service starts
    clock.set(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    health.press_payload(f"a.tg.{new.id}")
    assert "Kế hoạch số 99/KH-UBND" in health.text() and "năm 2026" in health.text()

    health.send("/baocao")  # one active plan now: nothing asked
    health.press("năm 2026")
    health.press("Đang triển khai")
    health.press("50%")
    assert "Tỷ lệ nữ cán bộ lãnh đạo" in health.text() and "ít nhất 30" in health.text()
    health.send("khoảng 32,5 %")
    health.press("Bỏ qua")  # task by task results
    health.press("Bỏ qua")  # note
    health.press("Bỏ qua")  # file
    assert "Tỷ lệ nữ cán bộ lãnh đạo: 32,5 %" in health.text()
    health.press("Gửi báo cáo")
    assert "Đã ghi nhận báo cáo" in health.text()
    update = database.run_sync(_last_update)
    assert update.plan_id == new.id
    value = database.run_sync(_last_value)
    assert value.status_update_id == update.id and value.value == pytest.approx(32.5)


def test_declining_a_plan_is_remembered_and_asks_nothing_again(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")
    new = second_plan(database, seed_plan)
    offers(database, new)
    health.press_payload(f"a.tc.{new.id}")
    assert "không phụ trách Kế hoạch số 99/KH-UBND" in health.text()
    states = database.run_sync(_memberships)
    assert (new.id, MembershipState.DECLINED) in states
    member = database.run_sync(people.membership, channel="telegram", user_id="2001")
    assert member is not None and member.plan_ids == (seed_plan.id,)
    assert len(offers(database, new)) == 1  # no second question


def test_an_offer_button_for_a_plan_that_does_not_name_the_organisation_changes_nothing(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    """IV.15's districts are not in the new plan: a forged «Có» changes nothing."""
    district = register(database, core, invite_code(coordinator, "/moi VUTHU"), "2003")
    new = second_plan(database, seed_plan)
    district.press_payload(f"a.tg.{new.id}")
    assert "không còn mời đơn vị của bạn" in district.text()
    assert (new.id, MembershipState.JOINED) not in database.run_sync(_memberships)


def test_a_focal_point_opening_an_invite_of_their_organisation_for_another_plan_joins_it(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")
    new = second_plan(database, seed_plan, ended_seed=False)
    code = invite_code(coordinator, "/moi 99/KH-UBND SYT")
    assert "Kế hoạch số 99/KH-UBND" in coordinator.text()
    health.send(f"/start {code}")
    assert "cũng là đầu mối của đơn vị trong Kế hoạch số 99/KH-UBND" in health.text()
    member = database.run_sync(people.membership, channel="telegram", user_id="2001")
    assert member is not None and set(member.plan_ids) == {seed_plan.id, new.id}
    health.send("/baocao")  # two active plans: which one?
    assert "chọn kế hoạch" in health.text()
    health.press("99/KH-UBND")
    assert "Kế hoạch số 99/KH-UBND" in health.text()
    assert any("năm 2026" in label for label, _ in health.buttons())


def test_coordinator_commands_ask_which_plan_unless_it_is_named(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    second_plan(database, seed_plan, ended_seed=False)
    coordinator.send("/tonghop")
    assert "Lệnh /tonghop: chọn kế hoạch." in coordinator.text()
    assert {label.split(" — ")[0] for label, _ in coordinator.buttons()} == {
        "40/KH-UBND",
        "99/KH-UBND",
    }
    coordinator.press("99/KH-UBND")
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 99/KH-UBND" in coordinator.text()
    coordinator.send("/tonghop 40/KH-UBND")
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 40/KH-UBND" in coordinator.text()
    coordinator.send("/donvi 40/KH-UBND SYT")
    assert "🏢 Sở Y tế [SYT]" in coordinator.text()
    coordinator.send("/kehoach")
    assert "99/KH-UBND" in coordinator.text() and "đang thực hiện" in coordinator.text()


def test_an_ended_plan_stays_readable_for_its_history(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    """With no active plan, a coordinator's commands work on the newest plan that ran."""

    def end(session: Session) -> None:
        plan = session.get(Plan, seed_plan.id)
        assert plan is not None
        plan.status = "ended"  # type: ignore[assignment]
        session.add(plan)

    database.run_sync(end)
    coordinator.send("/tonghop")
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 40/KH-UBND" in coordinator.text()
    assert seed_plan.id is not None
    assert database.run_sync(plans.active_plans) == []


def _last_update(session: Session) -> StatusUpdate:
    found = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.id).desc())).first()
    assert found is not None
    return found


def _last_value(session: Session) -> IndicatorValue:
    found = session.exec(select(IndicatorValue).order_by(col(IndicatorValue.id).desc())).first()
    assert found is not None
    return found


def _memberships(session: Session) -> set[tuple[int, MembershipState]]:
    return {(m.plan_id, MembershipState(m.state)) for m in session.exec(select(PlanMembership))}


def test_where_there_are_no_buttons_the_offer_is_answered_by_a_typed_command(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan
) -> None:
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")
    new = second_plan(database, seed_plan)
    [offer] = offers(database, new)
    assert offer.buttons is not None and "/thamgia 99/KH-UBND" in offer.buttons
    health.send("/thamgia 99/KH-UBND")
    assert "bạn là cán bộ đầu mối của Sở Y tế trong Kế hoạch số 99/KH-UBND" in health.text()
    member = database.run_sync(people.membership, channel="telegram", user_id="2001")
    assert member is not None and new.id in member.plan_ids


def test_a_conversation_left_open_by_the_one_plan_release_is_dropped_with_a_clear_word(
    database: Database, core: DialogCore, coordinator: CoreChat, clock: FakeClock
) -> None:
    """Its state has no plan: the answer to its question changes nothing and says so."""
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")

    def left_open(session: Session) -> None:
        session.add(
            DialogState(
                channel="telegram",
                user_id="2001",
                chat_id="2001",
                flow="bao_cao",
                step="xac_nhan",
                token="abcd1234",
                data='{"deadline": "so-ket-6-thang", "status": "hoan_thanh", "progress": 100, '
                '"options": ["send", "edit", "cancel"], "labels": {}}',
                updated_at=clock(),
            )
        )

    database.run_sync(left_open)
    health.send("1")
    assert health.text() == CONVERSATION_LOST
    health.send("1")  # afterwards an ordinary message again
    assert "Các lệnh" in health.text()


def test_a_report_for_an_ended_plan_is_refused_and_the_waiting_question_is_asked_again(
    database: Database, core: DialogCore, coordinator: CoreChat, seed_plan: Plan, clock: FakeClock
) -> None:
    """The 2021 focal point who never answered the offer types /baocao in 2026."""
    health = register(database, core, invite_code(coordinator, "/moi SYT"), "2001")
    new = second_plan(database, seed_plan)
    offers(database, new)
    clock.set(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    health.send("/baocao")
    said = health.text()
    assert "40/KH-UBND đã kết thúc" in said and "không nhận báo cáo mới" in said, said
    assert "99/KH-UBND" in said
    assert f"a.tg.{new.id}" in [payload for _, payload in health.buttons()]
    count = database.run_sync(lambda s: len(list(s.exec(select(StatusUpdate)))))
    assert count == 0
    health.press_payload(f"a.tg.{new.id}")
    health.send("/baocao")  # now the report goes to the plan that runs
    assert any("năm 2026" in label for label, _ in health.buttons())
