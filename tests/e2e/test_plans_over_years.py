"""Issue 8 end to end: organisations and people outlive a plan, and one service follows several
plans at once — through the real python-telegram-bot stack against the fake Bot API server."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from bot.app import read_plans
from bot.config import Settings
from scheduler.calendar import CalendarOverrides
from scheduler.policy import ReminderOccurrence, reminder_calendar
from storage.models import IndicatorValue, MembershipState, Plan, PlanMembership, StatusUpdate
from storage.plan_file import PlanSpec, read_plan_file
from tests.conftest import REPO, SEED_PLAN_FILE
from tests.e2e.conftest import (
    COORDINATOR_ID,
    SEED_PLAN_CODE,
    TelegramUser,
    ZaloUser,
    running_service,
    user,
)
from tests.e2e.test_telegram_bot import DEEP_LINK, OFFICIAL_ID, register
from tests.e2e.test_zalo_bot import CODE, ZALO_OFFICIAL, register_on_zalo
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_bot_api import BotMessage, FakeTelegramBotApi
from tests.fakes.zalo_bot_api import FakeZaloBotApi, ZaloBotMessage

EXAMPLE_PLAN_FILE = REPO / "plans" / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
EXAMPLE_PLAN_CODE = "vi-du-hung-yen-2026-2030-binh-dang-gioi"
COMPARED_SHEETS = ("Lịch sử báo cáo", "Đầu mối")  # what a plan's history is in /xuat


def real_occurrences(spec: PlanSpec, keys: list[str], at: datetime) -> list[ReminderOccurrence]:
    """The plan's own reminder occurrences of ``keys`` (from its real calendar), due at ``at``."""
    calendar = CalendarOverrides(spec.days_off, spec.working_days).working_calendar(spec.zone)
    planned = {o.key: o for o in reminder_calendar(spec, calendar)}
    return [replace(planned[key], fire_at=at) for key in keys]


def reminders_to(server: FakeTelegramBotApi, user_id: int) -> list[str]:
    return [m.text for m in server.bot_messages(user_id) if "NHẮC VIỆC" in (m.text or "")]


def history_sheets(export: BotMessage) -> dict[str, list[tuple[object, ...]]]:
    """The sheets of an /xuat workbook that hold the plan's history, as rows of values."""
    assert export.document_bytes is not None, export.text
    workbook = load_workbook(io.BytesIO(export.document_bytes))
    return {name: list(workbook[name].iter_rows(values_only=True)) for name in COMPARED_SHEETS}


@dataclass
class Stored:
    """What the database holds about the focal point, by plan code."""

    memberships: dict[str, MembershipState]
    report_plans: list[str]  # the plan of each status update, oldest first
    indicator_values: list[float]


def stored_reports(session: Session) -> Stored:
    codes = {p.id: p.code for p in session.exec(select(Plan))}
    memberships = {codes[m.plan_id]: m.state for m in session.exec(select(PlanMembership))}
    updates = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.id)))
    values = session.exec(select(IndicatorValue.value).order_by(col(IndicatorValue.id)))
    return Stored(memberships, [codes[u.plan_id] for u in updates], list(values))


def indicator_rows(export: BotMessage) -> list[tuple[object, ...]]:
    """The «Chỉ tiêu» sheet of an /xuat workbook: unit, period, target, value, met."""
    assert export.document_bytes is not None, export.text
    sheet = load_workbook(io.BytesIO(export.document_bytes))["Chỉ tiêu"]
    return [(r[3], r[4], r[2], r[5], r[6]) for r in sheet.iter_rows(min_row=2, values_only=True)]


async def report_2021(official: TelegramUser, coordinator: TelegramUser) -> None:
    """The six-month report of 2021, done, with a note."""
    choose = await official.send("/baocao")
    status = await official.press(choose, "sơ kết")
    tasks = await official.press(status, "Hoàn thành")  # asks about results task by task
    await official.press(tasks, "Bỏ qua")  # asks for a note
    attach = await official.send("Đã tổ chức hội nghị tuyên truyền Luật Bình đẳng giới")
    confirm = await official.press(attach, "Bỏ qua")
    saved = await official.press(confirm, "Gửi báo cáo")
    assert "Đã ghi nhận báo cáo của Sở Y tế" in saved.text, saved.text
    await coordinator.next()  # the coordinator's notice of that report


async def report_2026_with_indicator(official: TelegramUser) -> BotMessage:
    """/baocao in the 2026 plan: the first half of 2026, in progress, with the plan's indicator
    for Sở Y tế; returns the bot's confirmation."""
    choose = await official.send("/baocao")
    assert "Báo cáo của Sở Y tế — Kế hoạch số 45/KH-UBND" in choose.text, choose.text
    assert "2021" not in " ".join(choose.button_labels)
    status = await official.press(choose, "6 tháng đầu năm 2026")
    progress = await official.press(status, "Đang triển khai")
    indicator = await official.press(progress, "50%")
    assert "Tỷ lệ người bị bạo lực trên cơ sở giới" in indicator.text, indicator.text
    assert "mục tiêu: ít nhất 90 %" in indicator.text
    tasks = await official.send("92,5")  # asks about results task by task
    await official.press(tasks, "Bỏ qua")  # asks for a note
    attach = await official.send("Đã tiếp nhận, hỗ trợ 37 trường hợp")
    confirm = await official.press(attach, "Bỏ qua")
    assert "92,5 %" in confirm.text and "Tiến độ: 50%" in confirm.text, confirm.text
    return await official.press(confirm, "Gửi báo cáo")


async def test_a_2021_focal_point_joins_a_2026_plan_with_one_tap_and_is_reminded_in_it(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    clock = FakeClock(datetime(2021, 6, 1, 2, 0, tzinfo=UTC))
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    official = user(telegram_api, OFFICIAL_ID, "Hoa")
    async with running_service(settings, clock=clock):  # 2021: the seed plan is running
        await register(coordinator, official)
        await report_2021(official, coordinator)
        page_2021 = (await coordinator.send("/donvi SYT")).text
        export_2021 = history_sheets(await coordinator.send("/xuat"))
    assert "Đã tổ chức hội nghị tuyên truyền" in page_2021

    # 2026: the seed plan has ended (the shipped file says so); the multi-year plan is active.
    later = settings.model_copy(update={"plan_files": (SEED_PLAN_FILE, EXAMPLE_PLAN_FILE)})
    clock.set(datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    async with running_service(later, clock=clock) as service:
        offer = await official.next()  # queued at start-up, delivered by the outbox
        assert "đã đưa Sở Y tế vào Kế hoạch số 45/KH-UBND" in offer.text, offer.text
        joined = await official.press(offer, "Có")
        assert "bạn là cán bộ đầu mối của Sở Y tế trong Kế hoạch số 45/KH-UBND" in joined.text
        assert "Báo cáo sơ kết 6 tháng đầu năm 2026: trước ngày 10/06/2026" in joined.text
        saved = await report_2026_with_indicator(official)
        assert "Đã ghi nhận báo cáo của Sở Y tế" in saved.text, saved.text
        await coordinator.next()  # the notice of the 2026 report

        found = await service.database.run(stored_reports)
        assert found.memberships == {
            SEED_PLAN_CODE: MembershipState.JOINED,
            EXAMPLE_PLAN_CODE: MembershipState.JOINED,
        }
        assert found.report_plans == [SEED_PLAN_CODE, EXAMPLE_PLAN_CODE]
        assert found.indicator_values == [92.5]

    # June 2026: the plan's reminders. The first half is reported; the second quarter is not.
    spec = read_plan_file(EXAMPLE_PLAN_FILE)
    clock.set(datetime(2026, 6, 3, 1, 30, tzinfo=UTC))  # 08:30 on Wednesday 03/06/2026
    due = real_occurrences(
        spec, ["truoc-han:sau-thang-2026:5", "truoc-han:bao-luc-quy-2026-q2:10"], clock.now
    )
    async with running_service(later, clock=clock, occurrences={EXAMPLE_PLAN_CODE: due}) as service:
        assert list(service.reminders.runtime.plans) == [EXAMPLE_PLAN_CODE]  # 2021 has ended
        reminder = await official.next(within=15)
        assert "NHẮC VIỆC — Sở Y tế" in reminder.text, reminder.text
        assert "quý II/2026" in reminder.text
        status = await official.press(reminder, "Báo cáo ngay")
        assert "quý II/2026" in status.text, status.text
        await asyncio.sleep(0.5)
        assert len(reminders_to(telegram_api, OFFICIAL_ID)) == 1  # not the reported half

        # The 2021 plan's history is as it was, in /donvi and in /xuat.
        assert (await coordinator.send("/donvi 40/KH-UBND SYT")).text == page_2021
        assert history_sheets(await coordinator.send("/xuat 40/KH-UBND")) == export_2021
        page_2026 = (await coordinator.send("/donvi SYT")).text  # the one active plan
        assert "Báo cáo sơ kết 6 tháng đầu năm 2026: Đang triển khai 50%" in page_2026
        assert "hội nghị tuyên truyền" not in page_2026
        assert indicator_rows(await coordinator.send("/xuat")) == [
            ("Sở Y tế", "Báo cáo sơ kết 6 tháng đầu năm 2026", "≥ 90", 92.5, "Có")
        ]


# --- two active plans on one service ----------------------------------------------------------

CHILD_PLAN_CODE = "vi-du-hung-yen-2026-2030-tre-em"
CHILD_PLAN = """\
format: 2
code: vi-du-hung-yen-2026-2030-tre-em
status: active
number: 60/KH-UBND
title: Kế hoạch thực hiện công tác trẻ em giai đoạn 2026 - 2030
issuer: Ủy ban nhân dân tỉnh Hưng Yên
province: Hưng Yên
issued_on: 01/04/2026
timezone: Asia/Ho_Chi_Minh
coordinator: SNV
period: {from: 2026, to: 2030}
cross_cutting:
  - section: II.1
    title: Truyền thông về quyền trẻ em
    tasks: [Tuyên truyền Luật Trẻ em trên các phương tiện thông tin đại chúng.]
responsibilities:
  - section: IV.1
    heading: Sở Nội vụ
    kind: department
    units: [{code: SNV, name: Sở Nội vụ, short_name: Sở Nội vụ}]
    tasks: [Chủ trì, tổng hợp kết quả thực hiện Kế hoạch.]
  - section: IV.2
    heading: Các sở, ngành
    kind: department
    units:
      - {code: SYT, name: Sở Y tế, short_name: Sở Y tế}
      - {code: STP, name: Sở Tư pháp, short_name: Sở Tư pháp}
      - {code: CAT, name: Công an tỉnh Hưng Yên, short_name: Công an tỉnh}
    tasks: [Bảo vệ, chăm sóc trẻ em theo chức năng, nhiệm vụ.]
reports:
  - {code: sau-thang-tre-em, title: Báo cáo công tác trẻ em 6 tháng đầu, every: year, due: 15/6}
  - {code: nam-tre-em, title: Báo cáo công tác trẻ em, every: year, due: 15/12}
"""


def two_plans(settings: Settings, directory: Path) -> Settings:
    """The gender-equality example and a small child-protection plan, both active."""
    child = directory / f"{CHILD_PLAN_CODE}.yaml"
    child.write_text(CHILD_PLAN, encoding="utf-8")
    return settings.model_copy(update={"plan_files": (EXAMPLE_PLAN_FILE, child)})


async def invite(coordinator: TelegramUser, command: str, *, pick: str | None = None) -> str:
    """The code of the invite ``command`` creates; ``pick``: the plan to pick when asked."""
    answer = await coordinator.send(command)
    if pick is not None:
        assert answer.text == "Lệnh /moi: chọn kế hoạch.", answer.text
        assert len(answer.buttons) == 2  # one button per active plan
        answer = await coordinator.press(answer, pick)
    link = DEEP_LINK.search(answer.text)
    assert link is not None, answer.text
    return link.group(2)


async def register_with(official: TelegramUser, code: str, name: str) -> BotMessage:
    """Register on Telegram with an invite code; returns what follows the welcome: the question
    about the other plan that names the organisation."""
    await official.send(f"/start {code}")
    await official.send(name)
    await official.send("Chuyên viên")
    confirm = await official.send("0912 345 678")
    done = await official.press(confirm, "Xác nhận")
    assert "Đăng ký thành công" in done.text, done.text
    return await official.next()


def option_number(message: ZaloBotMessage, part: str) -> str:
    """The number of the numbered option (Zalo has no buttons) whose label holds ``part``."""
    for line in message.text.splitlines():
        found = re.match(r"\s*(\d+)\. (.*)", line)
        if found and part in found.group(2):
            return found.group(1)
    raise AssertionError(f"no option {part!r} in {message.text!r}")


def typed_answer(message: ZaloBotMessage, part: str) -> str:
    """What to type for the option whose label holds ``part``: its number, or the command a
    button without a number says to type ("  • ✅ Có…: gõ /lenh")."""
    for line in message.text.splitlines():
        typed = re.match(r"\s*• (.*): gõ (.+)$", line)
        if typed and part in typed.group(1):
            return typed.group(2)
    return option_number(message, part)


async def enrol(
    coordinator: TelegramUser, health: TelegramUser, justice: TelegramUser, police: ZaloUser
) -> None:
    """Sở Y tế joins both plans, Sở Tư pháp only the first, Công an tỉnh (on Zalo) both."""
    offer = await register_with(
        health, await invite(coordinator, "/moi SYT", pick="45/KH-UBND"), "Nguyễn Thị Hoa"
    )
    assert "vào Kế hoạch số 60/KH-UBND" in offer.text, offer.text
    assert "Kế hoạch số 60/KH-UBND" in (await health.press(offer, "Có")).text
    offer = await register_with(
        justice, await invite(coordinator, "/moi 45/KH-UBND STP"), "Lê Văn Bảo"
    )
    declined = await justice.press(offer, "Không")
    assert "bạn không phụ trách Kế hoạch số 60/KH-UBND" in declined.text, declined.text
    await register_on_zalo(police, await zalo_code(coordinator, "/moi 60/KH-UBND CAT"))
    offer_on_zalo = await police.next()
    assert "vào Kế hoạch số 45/KH-UBND" in offer_on_zalo.text, offer_on_zalo.text
    # The invite of the other plan is another way to join it (the typed answer to the offer is
    # tested below).
    joined = await police.send(await zalo_code(coordinator, "/moi 45/KH-UBND CAT"))
    assert "Kế hoạch số 45/KH-UBND" in joined.text, joined.text
    while "Gõ /nhiemvu" not in joined.text:  # every period to 2030: in 2000-character pieces
        joined = await police.next()


async def zalo_code(coordinator: TelegramUser, command: str) -> str:
    """The invite code ``command`` creates, as a Zalo user sends it."""
    answer = await coordinator.send(command)
    code = CODE.search(answer.text)
    assert code is not None, answer.text
    return code.group(1)


async def report_in_each_plan(
    coordinator: TelegramUser, health: TelegramUser, police: ZaloUser
) -> None:
    """Sở Y tế reports in the first plan, Công an tỉnh in the second: each picks the plan."""
    picker = await health.send("/baocao")
    assert picker.text == "Lệnh /baocao: chọn kế hoạch.", picker.text
    choose = await health.press(picker, "45/KH-UBND")
    status = await health.press(choose, "6 tháng đầu năm 2026")
    indicator = await health.press(status, "Hoàn thành")
    tasks = await health.press(indicator, "Bỏ qua")  # no value for the plan's indicator yet
    note = await health.press(tasks, "Bỏ qua")  # no results task by task
    attach = await health.press(note, "Bỏ qua")
    confirm = await health.press(attach, "Bỏ qua")
    assert "Đã ghi nhận báo cáo của Sở Y tế" in (await health.press(confirm, "Gửi báo cáo")).text
    await coordinator.next()  # the notice of that report

    picker_on_zalo = await police.send("/baocao")
    assert "Lệnh /baocao: chọn kế hoạch." in picker_on_zalo.text, picker_on_zalo.text
    choose_on_zalo = await police.send(option_number(picker_on_zalo, "60/KH-UBND"))
    assert "Kế hoạch số 60/KH-UBND" in choose_on_zalo.text, choose_on_zalo.text
    await police.send(option_number(choose_on_zalo, "6 tháng đầu năm 2026"))
    await police.send("Hoàn thành")
    await police.send("2")  # Bỏ qua (no results task by task)
    await police.send("Đã rà soát các vụ việc liên quan đến trẻ em")
    await police.send("1")  # Bỏ qua (no file)
    saved = await police.send("1")  # 📨 Gửi báo cáo
    assert "Đã ghi nhận báo cáo của Công an tỉnh Hưng Yên" in saved.text, saved.text
    await coordinator.next()


async def coordinator_asks_which_plan(coordinator: TelegramUser) -> None:
    """A command without a plan asks which; a plan named after it is taken at once."""
    picker = await coordinator.send("/tonghop")
    assert picker.text == "Lệnh /tonghop: chọn kế hoạch.", picker.text
    assert [label.split(" — ")[0] for label in picker.button_labels] == [
        "60/KH-UBND",
        "45/KH-UBND",
    ]
    child = await coordinator.press(picker, "60/KH-UBND")
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 60/KH-UBND" in child.text, child.text
    # the first half of 2026 reported, the year's report (due within a year) still to come
    assert "\n✅⬜ Công an tỉnh [CAT]\n" in child.text and "✅ Sở Y tế" not in child.text
    await coordinator.rest()  # its charts
    gender = await coordinator.send("/tonghop 45/KH-UBND")
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 45/KH-UBND" in gender.text, gender.text
    # the first quarter's report (overdue) and the first half's
    # (and the four due within a year)
    assert "\n❌✅⬜⬜⬜⬜ Sở Y tế [SYT]\n" in gender.text
    assert "\n❌⬜⬜⬜⬜⬜ Công an tỉnh [CAT]\n" in gender.text


async def test_two_active_plans_remind_each_its_own_non_reporters(
    telegram_api: FakeTelegramBotApi,
    zalo_api: FakeZaloBotApi,
    both_channels: Settings,
    tmp_path: Path,
) -> None:
    settings = two_plans(both_channels, tmp_path)
    clock = FakeClock(datetime(2026, 6, 3, 1, 30, tzinfo=UTC))  # 08:30 on Wednesday 03/06/2026
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    health = user(telegram_api, OFFICIAL_ID, "Hoa")
    justice = user(telegram_api, OFFICIAL_ID + 1, "Bảo")
    police = ZaloUser(zalo_api, ZALO_OFFICIAL, "Phạm Văn Công")
    async with running_service(settings, clock=clock):
        await enrol(coordinator, health, justice, police)
        await report_in_each_plan(coordinator, health, police)
        await coordinator_asks_which_plan(coordinator)

    specs = {spec.code: spec for spec, _ in read_plans(settings)}
    due = {
        EXAMPLE_PLAN_CODE: real_occurrences(
            specs[EXAMPLE_PLAN_CODE], ["truoc-han:sau-thang-2026:5"], clock.now
        ),
        CHILD_PLAN_CODE: real_occurrences(
            specs[CHILD_PLAN_CODE], ["truoc-han:sau-thang-tre-em-2026:5"], clock.now
        ),
    }
    async with running_service(settings, clock=clock, occurrences=due):
        assert "theo Kế hoạch số 60/KH-UBND" in (await health.next(within=15)).text
        assert "theo Kế hoạch số 45/KH-UBND" in (await justice.next(within=15)).text
        assert "theo Kế hoạch số 45/KH-UBND" in (await police.next(within=15)).text
        await asyncio.sleep(0.5)
    for official in (health, justice):  # one reminder each: not the plan they reported in
        assert len(reminders_to(telegram_api, official.user_id)) == 1
    assert len([m for m in zalo_api.bot_messages(ZALO_OFFICIAL) if "NHẮC VIỆC" in m.text]) == 1


async def test_a_focal_point_on_zalo_answers_the_offer_of_a_new_plan(
    telegram_api: FakeTelegramBotApi,
    zalo_api: FakeZaloBotApi,
    both_channels: Settings,
    tmp_path: Path,
) -> None:
    settings = two_plans(both_channels, tmp_path)
    clock = FakeClock(datetime(2026, 6, 3, 1, 30, tzinfo=UTC))
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    police = ZaloUser(zalo_api, ZALO_OFFICIAL, "Phạm Văn Công")
    async with running_service(settings, clock=clock):
        await register_on_zalo(police, await zalo_code(coordinator, "/moi 60/KH-UBND CAT"))
        offer = await police.next()
        assert "vào Kế hoạch số 45/KH-UBND" in offer.text, offer.text
        joined = await police.send(typed_answer(offer, "Có"))
        assert "bạn là cán bộ đầu mối của Công an tỉnh Hưng Yên trong Kế hoạch số 45/KH-UBND" in (
            joined.text
        )


async def test_the_coordinator_sees_indicator_values_against_targets_in_the_chat(
    telegram_api: FakeTelegramBotApi, settings: Settings
) -> None:
    example = settings.model_copy(update={"plan_files": (EXAMPLE_PLAN_FILE,)})
    clock = FakeClock(datetime(2026, 3, 20, 2, 0, tzinfo=UTC))
    coordinator = user(telegram_api, COORDINATOR_ID, "Điều phối")
    official = user(telegram_api, OFFICIAL_ID, "Hoa")
    async with running_service(example, clock=clock):
        await register(coordinator, official)
        await report_2026_with_indicator(official)
        await coordinator.next()  # the notice of the report
        page = await coordinator.send("/donvi SYT")
        assert "92,5 %" in page.text and "90" in page.text, page.text
        overview = await coordinator.send("/tonghop")
        text = "\n".join(m.text for m in [overview, *await coordinator.rest()])  # all its parts
        assert "92,5 % ✅ đạt" in text and "mục tiêu: ít nhất 90 %" in text, text
