"""/tonghop, /quahan and the digest of a plan with many units (a province after 2025: ~10
departments and 60–2,000 communes): a bounded summary, filters, pages that list every unit once,
and the plain matrix kept for small plans.

The plans are the Hưng Yên example (plans/vi-du-hung-yen-…) with a generated list of communes,
loaded and reported through the storage functions the bot uses."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.channels.text import utf16_length
from bot.dialog.core import DialogCore
from bot.dialog.events import Button, TextReply
from bot.dialog.overview import compose_digest
from bot.dialog.overview_render import LEGEND, CommandLine, summary_text
from bot.dialog.overview_scope import (
    Focus,
    Selection,
    UnknownFilter,
    page_of,
    parse_selection,
)
from scheduler.reminders import CoordinatorAddress
from storage import people, plans, read_models, reports
from storage.database import Database
from storage.models import FocalPoint, MembershipState, Plan, ReportStatus, StatusUpdate
from storage.plan_file import read_plan_file
from storage.plan_loader import load_plan
from storage.read_models import Overview
from tests.conftest import active_seed_spec
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "plans" / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
LOADED = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # the half-year report (due 10/6) is past
COORDINATOR = "1001"
TELEGRAM_LIMIT = 4096
CODE = re.compile(r"\[([A-Z0-9_]+)\]")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OTHER_UNITS = 11  # the example's departments, mass organisations and press, not its coordinator


@dataclass(frozen=True)
class LargePlan:
    file: Path  # a migrated SQLite database holding the plan and its reports
    units: int  # reporting units


def build_large_plan(folder: Path, migrated: Path, *, units: int) -> LargePlan:
    """The example plan with ``units - 11`` communes; for its half-year report every fifth unit
    reported done on time, every fifth a problem, every fifth late, the rest nothing; every
    other unit has a focal point."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EXAMPLE.name).write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    communes = [
        f"XA_{n:04d},Ủy ban nhân dân xã Số {n},UBND xã Số {n}" for n in range(units - OTHER_UNITS)
    ]
    (folder / "vi-du-hung-yen-xa-phuong.csv").write_text(
        "code,name,short_name\n" + "\n".join(communes) + "\n", encoding="utf-8"
    )
    spec = read_plan_file(folder / EXAMPLE.name)
    file = folder / "nhacviec.db"
    shutil.copyfile(migrated, file)
    database = Database(f"sqlite:///{file}")
    try:
        plan = database.run_sync(load_plan, spec, source_file=str(EXAMPLE), now=LOADED)
        database.run_sync(_report, plan)
    finally:
        database.dispose()
    return LargePlan(file, units)


def _report(session: Session, plan: Plan) -> None:
    assert plan.id is not None
    period = plans.period_by_code(session, plan_id=plan.id, code="sau-thang-2026")
    assert period is not None and period.id is not None
    due = plans.due_at(period.due_before, ZONE)
    for index, unit in enumerate(plans.units(session, plan_id=plan.id, reporting_only=True)):
        if index % 2 == 0:
            _focal_point(session, plan.id, unit.organisation_id, index)
        kind = index % 5
        if kind > 2:
            continue
        status = (ReportStatus.DONE, ReportStatus.BLOCKED, ReportStatus.IN_PROGRESS)[kind]
        reports.record_status_update(
            session,
            StatusUpdate(
                plan_id=plan.id,
                organisation_id=unit.organisation_id,
                period_id=period.id,
                channel="telegram",
                status=status,
                progress=100 if kind == 0 else 40,
                note=f"Thiếu kinh phí tại đơn vị {index}" if kind == 1 else None,
                created_at=due + (timedelta(days=2) if kind == 2 else -timedelta(days=2)),
            ),
        )


def _focal_point(session: Session, plan_id: int, organisation_id: int, index: int) -> None:
    person = FocalPoint(
        organisation_id=organisation_id,
        full_name=f"Cán bộ {index}",
        position="Chuyên viên",
        phone=f"09{index:08d}",
        registered_at=LOADED,
    )
    session.add(person)
    session.flush()
    assert person.id is not None
    people.decide_membership(
        session,
        focal_point_id=person.id,
        plan_id=plan_id,
        state=MembershipState.JOINED,
        now=LOADED,
    )


@pytest.fixture(scope="module")
def large_plans(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_file: Path
) -> dict[int, LargePlan]:
    """Built once for the module: a realistic province (150 units) and a large one (2,000)."""
    return {
        units: build_large_plan(
            tmp_path_factory.mktemp(f"plan{units}"), migrated_sqlite_file, units=units
        )
        for units in (150, 2000)
    }


@pytest.fixture(params=[150, 2000], ids=["150-units", "2000-units"])
def large(
    request: pytest.FixtureRequest, large_plans: dict[int, LargePlan], tmp_path: Path
) -> Iterator[tuple[Database, int]]:
    """This test's own copy of a large plan's database, and its number of reporting units."""
    built = large_plans[request.param]
    file = tmp_path / "nhacviec.db"
    shutil.copyfile(built.file, file)
    database = Database(f"sqlite:///{file}")
    yield database, built.units
    database.dispose()


@pytest.fixture
def middle(large_plans: dict[int, LargePlan], tmp_path: Path) -> Iterator[Database]:
    """The 150-unit plan alone (for walking through every page in the chat)."""
    file = tmp_path / "nhacviec.db"
    shutil.copyfile(large_plans[150].file, file)
    database = Database(f"sqlite:///{file}")
    yield database
    database.dispose()


class FakeDashboard:
    """The web dashboard, on (its button opens inside Telegram)."""

    def login_text(self, *, channel: str, user_id: str) -> str:
        return "https://bang-dieu-khien.example.vn/dang-nhap"

    def button(self) -> Button:
        return Button(
            label="📊 Bảng điều khiển", url="https://bang-dieu-khien.example.vn/", web_app=True
        )


def chat_on(database: Database, channel: str = "telegram", *, dashboard: bool = False) -> CoreChat:
    core: DialogCore = dialog_core(
        clock=FakeClock(NOW),
        coordinators=[CoordinatorAddress(channel, COORDINATOR)],
        dashboard=FakeDashboard() if dashboard else None,
    )
    return CoreChat(database, core, COORDINATOR, channel=channel)


def overview_of(database: Database) -> Overview:
    def read(session: Session) -> Overview:
        [plan] = plans.active_plans(session)
        return read_models.overview(session, plan=plan, now=NOW)

    return database.run_sync(read)


def codes(text: str) -> list[str]:
    return CODE.findall(text)


def texts_of(chat: CoreChat) -> list[str]:
    return [reply.text for reply in chat.last.replies if isinstance(reply, TextReply)]


def overdue_codes(overview: Overview) -> set[str]:
    return {row.unit.code for row in overview.rows if any(c.overdue for c in row.cells.values())}


def blocked_codes(overview: Overview) -> set[str]:
    return {
        row.unit.code
        for row in overview.rows
        for cell in row.cells.values()
        if cell.latest is not None and cell.latest.status == ReportStatus.BLOCKED
    }


# --- the words after the command (pure) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", Selection()),
        ("quahan", Selection(focus=Focus.OVERDUE)),
        ("Quá hạn", Selection(focus=Focus.OVERDUE)),
        ("vướng mắc xã", Selection(focus=Focus.BLOCKED, kinds=frozenset({"commune"}))),
        ("sở ban ngành trang 3", Selection(kinds=frozenset({"department"}), page=3)),
        ("xa phuong trang2", Selection(kinds=frozenset({"commune"}), page=2)),
        ("2", Selection(page=2)),
        (
            "tatca so doanthe",
            Selection(focus=Focus.ALL, kinds=frozenset({"department", "mass-organization"})),
        ),
    ],
)
def test_filters_are_read_without_diacritics_spaces_or_order(
    typed: str, expected: Selection
) -> None:
    assert parse_selection(typed.split(), focuses=tuple(Focus)) == expected
    assert parse_selection(expected.words(), focuses=tuple(Focus)) == expected  # round trip


@pytest.mark.parametrize(
    ("typed", "word"), [("Abc", "Abc"), ("xa Trang", "Trang"), ("tatca", "tatca")]
)
def test_a_word_that_is_no_filter_of_the_command_is_named(typed: str, word: str) -> None:
    with pytest.raises(UnknownFilter) as refused:
        parse_selection(typed.split(), focuses=(Focus.OVERDUE, Focus.BLOCKED))
    assert refused.value.word == word


@pytest.mark.parametrize("count", [0, 1, 19, 20, 21, 2011])
def test_pages_hold_every_item_once_and_a_page_past_the_end_is_the_last(count: int) -> None:
    items = list(range(count))
    first = page_of(items, 1)
    seen = [item for number in range(1, first.pages + 1) for item in page_of(items, number).items]
    assert seen == items
    assert all(len(page_of(items, n).items) <= 20 for n in range(1, first.pages + 1))
    assert page_of(items, 10**6).number == first.pages


# --- /tonghop of a large plan -------------------------------------------------------------------


def test_the_overview_of_many_units_is_a_bounded_summary(large: tuple[Database, int]) -> None:
    database, units = large
    coordinator = chat_on(database)
    coordinator.send("/tonghop")
    [text] = texts_of(coordinator)
    assert utf16_length(text) <= TELEGRAM_LIMIT, utf16_length(text)
    assert f"{units} đơn vị báo cáo: {units - OTHER_UNITS} UBND xã, phường (/tonghop xa)" in text
    assert "Cột 1:" in text and "đã nộp" in text and "quá hạn chưa nộp" in text
    overview = overview_of(database)
    attention = overdue_codes(overview) | blocked_codes(overview)
    assert (
        f"ĐƠN VỊ CẦN CHÚ Ý (quá hạn chưa nộp hoặc gặp vướng mắc): {len(attention)} đơn vị" in text
    )
    listed = codes(text)
    assert len(listed) == 20 and set(listed) <= attention
    assert f"… và {len(attention) - 20} đơn vị khác: gõ /tonghop trang 2" in text
    assert "/tonghop quahan" in text and "/tonghop vuongmac" in text and "/quahan (" in text
    assert text.endswith("Đủ mọi đơn vị và đầu mối: /xuat (tệp Excel)")  # no dashboard here
    assert LEGEND in text
    assert [label for label, _ in coordinator.buttons()] == ["Trang sau ▶"]
    assert coordinator.documents(), "the charts follow the summary"


def test_the_summary_points_to_the_dashboard_where_it_is_on(middle: Database) -> None:
    coordinator = chat_on(middle, dashboard=True)
    coordinator.send("/tonghop")
    [reply] = [r for r in coordinator.last.replies if isinstance(r, TextReply)]
    assert reply.text.endswith("/xuat (tệp Excel) · bảng điều khiển trên web: /dashboard")
    rows = [[button.label for button in row] for row in reply.buttons]
    assert rows == [["Trang sau ▶"], ["📊 Bảng điều khiển"]]


def test_every_page_of_a_large_plan_lists_each_unit_once(large: tuple[Database, int]) -> None:
    overview = overview_of(large[0])
    for focus, expected in (
        (Focus.ATTENTION, overdue_codes(overview) | blocked_codes(overview)),
        (Focus.ALL, {row.unit.code for row in overview.rows}),
        (Focus.BLOCKED, blocked_codes(overview)),
    ):
        listed: list[str] = []
        number = 1
        while True:
            text = summary_text(
                overview, Selection(focus=focus, page=number), CommandLine("tonghop")
            )
            assert utf16_length(text) <= TELEGRAM_LIMIT
            listed += codes(text)
            if "Trang sau" not in text and f"trang {number + 1}" not in text:
                break
            number += 1
        assert len(listed) == len(set(listed)) == len(expected), focus
        assert set(listed) == expected, focus


def test_pages_are_turned_with_buttons_until_the_last(middle: Database) -> None:
    coordinator = chat_on(middle)
    coordinator.send("/tonghop quahan")
    listed = codes(texts_of(coordinator)[0])
    pages = 1
    while any(label == "Trang sau ▶" for label, _ in coordinator.buttons()):
        coordinator.press("Trang sau ▶")
        assert coordinator.last.accepted_button and not coordinator.documents()
        [text] = texts_of(coordinator)
        assert "Cột 1:" not in text  # the totals are on the first page only
        listed += codes(text)
        pages += 1
    assert f"trang {pages}/{pages}" in texts_of(coordinator)[0]
    assert sorted(listed) == sorted(overdue_codes(overview_of(middle)))
    coordinator.press("◀ Trang trước")
    assert f"trang {pages - 1}/{pages}" in texts_of(coordinator)[0]
    coordinator.send("/tonghop quahan trang 2")
    coordinator.press("◀ Trang trước")
    assert "Cột 1:" in texts_of(coordinator)[0] and not coordinator.documents()


def test_filters_by_state_and_kind(large: tuple[Database, int]) -> None:
    database, units = large
    overview = overview_of(database)
    coordinator = chat_on(database)
    coordinator.send("/tonghop vuongmac")
    assert set(codes(texts_of(coordinator)[0])) <= blocked_codes(overview)
    coordinator.send("/tonghop xã")
    [text] = texts_of(coordinator)
    assert text.startswith("📊 TỔNG HỢP BÁO CÁO — Kế hoạch số 45/KH-UBND — UBND xã, phường")
    assert all(code.startswith("XA_") for code in codes(text))
    assert f"đã nộp 0/{units - OTHER_UNITS} (0%)" in text  # the communes' quarterly report
    coordinator.send("/tonghop so")  # few departments: the whole matrix, as for a small plan
    [text] = texts_of(coordinator)
    departments = [row.unit.code for row in overview.rows if row.unit.kind == "department"]
    assert codes(text) == departments and "trang" not in text and LEGEND in text


def test_an_unknown_filter_is_answered_with_the_ones_there_are(middle: Database) -> None:
    coordinator = chat_on(middle)
    coordinator.send("/tonghop quahang")
    [text] = texts_of(coordinator)
    assert "Lệnh /tonghop không có bộ lọc «quahang»" in text
    for word in ("quahan", "vuongmac", "tatca", "so, xa, huyen", "trang N", "45/KH-UBND"):
        assert word in text, word
    assert not coordinator.documents()
    coordinator.send("/quahan tatca")
    assert "Lệnh /quahan không có bộ lọc «tatca»" in coordinator.text()


def test_the_plan_number_goes_before_the_filters(middle: Database) -> None:
    coordinator = chat_on(middle)
    coordinator.send("/tonghop quahan")
    by_filter = texts_of(coordinator)
    coordinator.send("/tonghop 45/KH-UBND quá hạn")
    assert texts_of(coordinator) == by_filter


def test_with_several_plans_the_filters_wait_for_the_plan_and_the_pages_name_it(
    middle: Database,
) -> None:
    middle.run_sync(load_plan, active_seed_spec(), source_file="seed", now=LOADED)
    coordinator = chat_on(middle)
    coordinator.send("/tonghop quá hạn")
    assert coordinator.text() == "Lệnh /tonghop: chọn kế hoạch."
    coordinator.press("45/KH-UBND")
    [text] = texts_of(coordinator)
    assert "ĐƠN VỊ QUÁ HẠN CHƯA NỘP" in text and "gõ /tonghop 45/KH-UBND quahan trang 2" in text
    coordinator.press("Trang sau ▶")
    assert "trang 2/" in texts_of(coordinator)[0]
    coordinator.send("/tonghop 99/KH-UBND")  # no such plan: the picker, then the word is named
    coordinator.press("45/KH-UBND")
    assert "Không có kế hoạch số «99/KH-UBND»" in coordinator.text()


def test_without_buttons_the_pages_are_commands_to_type(middle: Database) -> None:
    coordinator = chat_on(middle, channel="zalo")
    coordinator.send("/tonghop tatca xa trang 2")
    [reply] = [r for r in coordinator.last.replies if isinstance(r, TextReply)]
    typed = [button.typed for row in reply.buttons for button in row]
    assert typed == ["/tonghop tatca xa", "/tonghop tatca xa trang 3"]
    assert "gõ /tonghop tatca xa trang 3" in reply.text


def test_a_page_button_is_for_coordinators_and_its_own_plan(middle: Database) -> None:
    coordinator = chat_on(middle)
    coordinator.send("/tonghop")
    payload = coordinator.payload_of("Trang sau")
    stranger = CoreChat(middle, coordinator.core, "9999")
    stranger.press_payload(payload)
    assert "chỉ dành cho cán bộ điều phối" in stranger.text() and not stranger.documents()
    coordinator.press_payload("a.tonghop.999-trang-2")
    assert coordinator.last.notice == "Nút không hợp lệ. Không có gì thay đổi."


# --- /quahan and the digest of a large plan -----------------------------------------------------


def test_overdue_units_come_a_page_at_a_time_with_their_contacts(
    large: tuple[Database, int],
) -> None:
    database, units = large
    overview = overview_of(database)
    coordinator = chat_on(database)
    coordinator.send("/quahan")
    [text] = texts_of(coordinator)
    assert utf16_length(text) <= TELEGRAM_LIMIT, utf16_length(text)
    assert "Kỳ 1:" in text and f"/{units} đơn vị chưa nộp" in text
    overdue = overdue_codes(overview)
    assert f"ĐƠN VỊ QUÁ HẠN CHƯA NỘP (ít nhất một kỳ đã qua hạn): {len(overdue)} đơn vị" in text
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 20 and {c for line in lines for c in codes(line)} <= overdue
    assert any(re.search(r"— kỳ [\d, ]+: Cán bộ \d+ 09\d{8}$", line) for line in lines)
    assert any(line.endswith(": chưa có đầu mối") for line in lines)
    blocked = len(blocked_codes(overview))
    assert f"⚠️ {blocked} đơn vị báo gặp vướng mắc: gõ /quahan vuongmac" in text
    assert "/quahan trang 2" in text and "/xuat" in text


def test_problems_are_listed_with_what_units_wrote(middle: Database) -> None:
    coordinator = chat_on(middle)
    coordinator.send("/quahan vướng mắc")
    [text] = texts_of(coordinator)
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 20 and all("Thiếu kinh phí tại đơn vị" in line for line in lines)
    assert "/quahan vuongmac trang 2" in text


def test_the_digest_of_a_large_plan_is_the_summary(large: tuple[Database, int]) -> None:
    database, units = large

    def digest(session: Session) -> str:
        [plan] = plans.active_plans(session)
        return compose_digest(session, plan=plan, now=NOW, period=None).text

    text = database.run_sync(digest)
    assert text.startswith("📬 BẢN TIN TỔNG HỢP HẰNG TUẦN — Kế hoạch số 45/KH-UBND")
    assert f"{units} đơn vị báo cáo" in text and "gõ /tonghop trang 2" in text
    assert len(codes(text)) == 20 and utf16_length(text) <= TELEGRAM_LIMIT
    assert text.splitlines()[-1].startswith("Gõ /quahan để xem danh sách đơn vị quá hạn")


def test_the_heat_map_is_left_to_the_dashboard_above_a_province(
    large: tuple[Database, int],
) -> None:
    """A province's units (up to 200) get the unit × period heat map in the chat; a larger
    plan the reporting-rate chart alone (its grid would be unreadable, and slow to draw)."""
    from bot.charts import HEATMAP_LIMIT

    database, units = large
    coordinator = chat_on(database)
    coordinator.send("/tonghop")
    names = [document.filename for document in coordinator.documents()]
    assert any(name.startswith("ty-le-bao-cao-") for name in names)
    heat_maps = [name for name in names if name.startswith("don-vi-theo-ky-")]
    assert len(heat_maps) == (1 if units <= HEATMAP_LIMIT else 0), (units, names)
