"""The working calendar on the `holidays` package: swapped Saturdays, days declared off or worked,
years on demand, and the calendar file a coordinator's office keeps beside the service."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import (
    CalendarFileError,
    CalendarOverrides,
    WorkingCalendar,
    parse_calendar,
    read_calendar_file,
)
from scheduler.policy import ReminderKind, reminder_calendar
from storage.plan_file import CampaignSpec, DeadlineSpec, PlanSpec

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "calendar.example.yaml"


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar(ZONE)


# --- Saturdays worked in exchange for a bridging day off (the package's weekend_workdays) ---------

SWAPPED_SATURDAYS = [
    # (the Saturday worked, the Monday of its week, working days from that Monday to the next)
    pytest.param(date(2019, 1, 5), date(2018, 12, 31), 4, id="05-01-2019"),  # for 31/12/2018
    pytest.param(date(2024, 5, 4), date(2024, 4, 29), 3, id="04-05-2024"),  # for 29/04/2024
    pytest.param(date(2025, 4, 26), date(2025, 4, 21), 6, id="26-04-2025"),  # for 02/05/2025
    pytest.param(date(2026, 8, 22), date(2026, 8, 17), 6, id="22-08-2026"),  # for 31/08/2026
]


@pytest.mark.parametrize(("saturday", "monday", "in_week"), SWAPPED_SATURDAYS)
def test_a_swapped_saturday_is_a_working_day(
    calendar: WorkingCalendar, saturday: date, monday: date, in_week: int
) -> None:
    assert saturday.weekday() == 5
    assert calendar.is_working_day(saturday)
    assert calendar.holiday_name(saturday) is None
    assert calendar.on_or_after(saturday) == saturday


@pytest.mark.parametrize(("saturday", "monday", "in_week"), SWAPPED_SATURDAYS)
def test_a_swapped_saturday_counts_as_a_working_day(
    calendar: WorkingCalendar, saturday: date, monday: date, in_week: int
) -> None:
    next_monday = monday + timedelta(days=7)
    friday = saturday - timedelta(days=1)
    assert calendar.nth_before(next_monday, 1) == saturday
    assert calendar.nth_before(next_monday, 2) == friday
    assert calendar.nth_on_or_after(friday, 2) == saturday
    assert calendar.working_days_between(monday, next_monday) == in_week
    assert calendar.working_days_between(next_monday, monday) == -in_week
    assert calendar.working_days_between(saturday, saturday + timedelta(days=1)) == 1


def test_the_day_off_in_exchange_for_a_saturday_is_named_after_it(
    calendar: WorkingCalendar,
) -> None:
    name = calendar.holiday_name(date(2026, 8, 31))
    assert name is not None and "22/08/2026" in name
    assert not calendar.is_working_day(date(2026, 8, 31))
    # 31/08 swapped, 01–02/09 National Day: the first working day from Saturday 29/08 is 03/09.
    assert calendar.on_or_after(date(2026, 8, 29)) == date(2026, 9, 3)


def test_a_day_counted_from_itself_or_to_itself_is_no_working_day(
    calendar: WorkingCalendar,
) -> None:
    # The package counts [start, end] and steps from the day before: the calendar does not.
    assert calendar.working_days_between(date(2026, 8, 19), date(2026, 8, 19)) == 0
    assert calendar.working_days_between(date(2026, 8, 19), date(2026, 8, 20)) == 1
    assert calendar.nth_before(date(2026, 8, 20), 1) == date(2026, 8, 19)
    assert calendar.nth_on_or_after(date(2026, 8, 19), 1) == date(2026, 8, 19)


# --- days declared off or worked ------------------------------------------------------------------

TET_2027_OFF = {date(2027, 2, 3): "Nghỉ bù Tết Nguyên đán"}
TET_2027_WORKED = {date(2027, 2, 20): "Làm bù cho ngày 03/02/2027"}


def test_tet_2027_as_the_package_has_it(calendar: WorkingCalendar) -> None:
    # 29 Tết (04/02) to Mùng năm (10/02); 03/02 is still a working Wednesday.
    assert [calendar.is_working_day(date(2027, 2, day)) for day in range(3, 12)] == [
        True,
        *[False] * 7,
        True,
    ]
    assert calendar.nth_before(date(2027, 2, 4), 1) == date(2027, 2, 3)
    assert calendar.nth_on_or_after(date(2027, 2, 19), 2) == date(2027, 2, 22)


def test_a_declared_extra_day_off_lengthens_tet_2027() -> None:
    calendar = WorkingCalendar(ZONE, days_off=TET_2027_OFF)
    assert not calendar.is_working_day(date(2027, 2, 3))
    assert calendar.holiday_name(date(2027, 2, 3)) == "Nghỉ bù Tết Nguyên đán"
    assert calendar.nth_before(date(2027, 2, 11), 1) == date(2027, 2, 2)
    assert calendar.on_or_after(date(2027, 2, 3)) == date(2027, 2, 11)
    # 01–02/02, then 11–12/02: the 03/02 the package counts is gone.
    assert calendar.working_days_between(date(2027, 2, 1), date(2027, 2, 15)) == 4
    assert WorkingCalendar(ZONE).working_days_between(date(2027, 2, 1), date(2027, 2, 15)) == 5


def test_a_declared_working_saturday_is_a_working_day() -> None:
    calendar = WorkingCalendar(ZONE, days_off=TET_2027_OFF, working_days=TET_2027_WORKED)
    assert calendar.is_working_day(date(2027, 2, 20))
    assert calendar.holiday_name(date(2027, 2, 20)) is None
    assert calendar.nth_on_or_after(date(2027, 2, 19), 2) == date(2027, 2, 20)
    assert calendar.nth_before(date(2027, 2, 22), 1) == date(2027, 2, 20)
    assert calendar.working_days_between(date(2027, 2, 15), date(2027, 2, 22)) == 6
    assert not calendar.is_working_day(date(2027, 2, 21))  # the Sunday stays off


def test_a_declared_day_wins_over_the_package() -> None:
    calendar = WorkingCalendar(
        ZONE,
        days_off={date(2026, 8, 22): "Không làm bù"},
        working_days={date(2027, 2, 10): "Đi làm ngày Mùng năm"},
    )
    assert not calendar.is_working_day(date(2026, 8, 22))
    assert calendar.holiday_name(date(2026, 8, 22)) == "Không làm bù"
    assert calendar.is_working_day(date(2027, 2, 10))
    assert calendar.holiday_name(date(2027, 2, 10)) is None
    assert calendar.on_or_after(date(2027, 2, 4)) == date(2027, 2, 10)


def test_a_day_declared_both_off_and_worked_is_refused() -> None:
    with pytest.raises(ValueError, match="2027-02-20"):
        WorkingCalendar(
            ZONE, days_off={date(2027, 2, 20): "Nghỉ"}, working_days={date(2027, 2, 20): "Làm"}
        )


def test_merged_overrides_follow_the_newer_source_day_by_day() -> None:
    plan = CalendarOverrides(
        days_off={date(2027, 2, 3): "Theo kế hoạch", date(2027, 2, 12): "Nghỉ thêm"},
        working_days={date(2027, 2, 20): "Làm bù theo kế hoạch"},
    )
    office = CalendarOverrides(
        days_off={date(2027, 2, 20): "Hủy làm bù"}, working_days={date(2027, 2, 27): "Làm bù"}
    )
    merged = plan.merged(office)
    assert dict(merged.days_off) == {
        date(2027, 2, 3): "Theo kế hoạch",
        date(2027, 2, 12): "Nghỉ thêm",
        date(2027, 2, 20): "Hủy làm bù",
    }
    assert dict(merged.working_days) == {date(2027, 2, 27): "Làm bù"}
    calendar = merged.working_calendar(ZONE)
    assert not calendar.is_working_day(date(2027, 2, 20))
    assert calendar.is_working_day(date(2027, 2, 27))
    assert dict(plan.days_off)[date(2027, 2, 3)] == "Theo kế hoạch"  # the sources are unchanged
    with pytest.raises(TypeError):
        plan.days_off[date(2027, 2, 4)] = "Sửa"  # type: ignore[index]


# --- any year asked, each built once --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        pytest.param(date(2030, 2, 4), "Tết Nguyên Đán", id="tet-2030"),
        pytest.param(date(2035, 2, 8), "Tết Nguyên Đán", id="tet-2035"),
        pytest.param(date(2030, 11, 25), "Văn hóa", id="culture-day-2030-in-lieu"),
        pytest.param(date(2099, 9, 2), "Quốc khánh", id="national-day-2099"),
    ],
)
def test_holidays_of_later_years_are_known(
    calendar: WorkingCalendar, day: date, name_part: str
) -> None:
    name = calendar.holiday_name(day)
    assert name is not None and name_part in name
    assert not calendar.is_working_day(day)


def test_a_year_the_package_has_no_table_for_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="2101"):
        calendar.is_working_day(date(2101, 1, 3))
    with pytest.raises(ValueError, match="2101"):
        calendar.nth_on_or_after(date(2100, 12, 31), 2)


def five_year_plan(seed_spec: PlanSpec) -> PlanSpec:
    years = range(2021, 2026)
    return seed_spec.model_copy(
        update={
            "deadlines": [
                DeadlineSpec(
                    code=f"bao-cao-{year}-{month}",
                    title="Báo cáo",
                    due_before=date(year, month, 10),
                )
                for year in years
                for month in (6, 12)
            ],
            "campaigns": [
                CampaignSpec(
                    code=f"thang-hanh-dong-{year}",
                    section="II.2",
                    title="Tháng hành động",
                    starts_on=date(year, 11, 15),
                    ends_on=date(year, 12, 15),
                )
                for year in years
            ],
        }
    )


def test_a_five_year_plan_builds_each_year_once_and_asks_each_day_once(
    seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    spec = five_year_plan(seed_spec)
    planned = reminder_calendar(spec, calendar)
    # The weekly digest runs a week past the plan's span (31/12/2025 for a format 1 plan whose
    # last deadline falls in 2025): its last one is Monday 05/01/2026; nothing else leaves 2025.
    after = [(o.key, o.fire_at.date()) for o in planned if o.fire_at.year > 2025]
    assert after == [("tong-hop:2026-01-05", date(2026, 1, 5))]
    assert {o.fire_at.year for o in planned} == set(range(2021, 2027))
    assert sum(o.kind == ReminderKind.CAMPAIGN_KICKOFF for o in planned) == 5
    built, asked = calendar.years_built, calendar.days_looked_up
    assert sorted(set(built)) == list(built)  # no year built twice
    assert set(built) <= set(range(2020, 2027))
    assert asked <= (date(2026, 1, 31) - date(2021, 1, 1)).days

    assert reminder_calendar(spec, calendar) == planned
    assert (calendar.years_built, calendar.days_looked_up) == (built, asked)


# --- the calendar file ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CalendarFileError) as caught:
        read_calendar_file(path)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(problem) for problem in caught.value.problems]


def test_the_example_calendar_file_reads() -> None:
    overrides = read_calendar_file(EXAMPLE_FILE)
    assert dict(overrides.days_off) == {date(2027, 2, 3): "Nghỉ bù Tết Nguyên đán"}
    assert dict(overrides.working_days) == {date(2027, 2, 20): "Làm bù cho ngày 03/02/2027"}


def test_a_calendar_file_takes_iso_and_vietnamese_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# Lịch nghỉ bù / làm bù do Thủ tướng Chính phủ công bố\n"
        "days_off:\n"
        "  2027-02-03: Nghỉ bù Tết Nguyên đán\n"
        "  '12/02/2027':   Nghỉ   thêm\n"
        "  2026-09-02: Quốc khánh\n"  # already a holiday: allowed, it changes nothing
        "working_days:\n"
        "  20/02/2027: Làm bù cho ngày 03/02\n"
        "  2027-02-10: Đi làm ngày Mùng năm\n",
    )
    overrides = read_calendar_file(path)
    assert dict(overrides.days_off) == {
        date(2026, 9, 2): "Quốc khánh",
        date(2027, 2, 3): "Nghỉ bù Tết Nguyên đán",
        date(2027, 2, 12): "Nghỉ thêm",
    }
    assert list(overrides.working_days) == [date(2027, 2, 10), date(2027, 2, 20)]


@pytest.mark.parametrize("text", ["", "# chưa có gì\n", "days_off:\nworking_days:\n"])
def test_an_empty_calendar_file_declares_nothing(tmp_path: Path, text: str) -> None:
    assert read_calendar_file(write(tmp_path, text)) == CalendarOverrides()


def test_every_problem_of_a_calendar_file_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "days_off:\n"
        "  2027-02-30: Ngày không có\n"  # 2
        "  2027/02/03: Sai dạng\n"  # 3
        "  2027-02-06: Thứ Bảy\n"  # 4
        "  2027-02-03:\n"  # 5
        "  2027-03-01: Nghỉ\n"  # 6
        "  01/03/2027: Nghỉ lần nữa\n"  # 7
        "working_days:\n"
        "  2027-02-17: Thứ Tư\n"  # 9
        "  2027-03-01: Làm\n"  # 10
        "  2101-01-01: Quá xa\n"  # 11
        "holidays:\n"  # 12
        "  2027-01-01: Tết\n",
    )
    assert problems_of(path) == [
        f"{path}:2: days_off: 2027-02-30: ngày không tồn tại",
        f"{path}:3: days_off: 2027/02/03: ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
        f"{path}:4: days_off: 06/02/2027 là thứ Bảy, vốn đã được nghỉ: chỉ khai báo những ngày "
        "làm việc được cho nghỉ",
        f"{path}:5: days_off: 2027-02-03: thiếu lý do (ví dụ «Nghỉ bù Tết Nguyên đán»)",
        f"{path}:7: days_off: 01/03/2027: khai báo hai lần (xem dòng 6)",
        f"{path}:9: working_days: 17/02/2027 là thứ Tư, vốn đã là ngày làm việc: chỉ khai báo "
        "ngày làm bù rơi vào thứ Bảy, Chủ nhật hoặc ngày lễ",
        f"{path}:10: working_days: 01/03/2027: vừa nghỉ vừa làm (xem dòng 6)",
        f"{path}:11: working_days: 01/01/2101: năm ngoài lịch nghỉ lễ (1901–2100)",
        f"{path}:12: khóa không hợp lệ: 'holidays' (chỉ có days_off và working_days)",
    ]


def test_a_day_off_on_a_saturday_the_package_has_as_worked_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "days_off:\n  22/08/2026: Không làm bù\n")
    assert dict(read_calendar_file(path).days_off) == {date(2026, 8, 22): "Không làm bù"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "days_off: [2027-02-03]\n", ":1: days_off: mỗi dòng một ngày và lý do", id="list"
        ),
        pytest.param("- 2027-02-03\n", ":1: tệp lịch phải có các khóa", id="not-a-mapping"),
        pytest.param("days_off:\n  2027-02-03: [a\n", ":3: YAML không hợp lệ", id="bad-yaml"),
        pytest.param(
            "days_off:\n  2027-02-03: Nghỉ\ndays_off:\n  2027-02-04: Nghỉ\n",
            ":3: khóa 'days_off' bị lặp lại",
            id="section-twice",
        ),
    ],
)
def test_a_calendar_file_of_the_wrong_shape_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}{expected}"), problem


def test_a_missing_or_unreadable_calendar_file_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "khong-co.yaml") == [
        f"{tmp_path / 'khong-co.yaml'}:0: không tìm thấy tệp"
    ]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"days_off:\n  2027-02-03: Ngh\xec\n")  # Latin-1
    assert problems_of(latin) == [f"{latin}:1: tệp phải được lưu bằng mã UTF-8"]


def test_parse_calendar_names_the_file_it_is_given() -> None:
    with pytest.raises(CalendarFileError, match=r"^ke-hoach\.yaml:2: "):
        parse_calendar("working_days:\n  2027-02-17: Thứ Tư\n", "ke-hoach.yaml")
