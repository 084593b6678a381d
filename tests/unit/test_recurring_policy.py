"""The reminder policy for recurring plans (format 2): every reporting period of a multi-year
plan, every run of a yearly campaign with its closing reminder, digests over the plan's span;
and the seed plan's calendar unchanged, key for key."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scheduler import texts
from scheduler.calendar import WorkingCalendar
from scheduler.messages import buttons_from_json
from scheduler.policy import (
    CatchUpAction,
    ReminderKind,
    ReminderOccurrence,
    SeriesIndex,
    plan_catch_up,
    reminder_calendar,
)
from storage import plans
from storage.database import Database
from storage.models import Plan
from storage.plan_file import PlanSpec, parse_plan, read_plan_file
from storage.plan_loader import load_plan
from tests.conftest import REPO
from tests.unit.test_calendar_and_policy import (
    REGISTERED_AT,
    Account,
    add_focal_point,
    assert_vietnamese,
    fire,
    recipients,
)

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = time(8, 30)
DIGEST = time(16, 30)
EXAMPLE = REPO / "plans" / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
ACTION_MONTH = "Tháng hành động vì bình đẳng giới và phòng, chống bạo lực trên cơ sở giới"


def local(day: date, clock: time = OFFICE) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZONE)


@pytest.fixture(scope="module")
def example() -> PlanSpec:
    return read_plan_file(EXAMPLE)


@pytest.fixture(scope="module")
def planned(example: PlanSpec) -> dict[str, ReminderOccurrence]:
    return {o.key: o for o in reminder_calendar(example, WorkingCalendar(ZONE))}


def fired_on(planned: dict[str, ReminderOccurrence], kind: str, subject: str) -> dict[int, date]:
    return {
        int(o.working_days or 0): o.fire_at.date()
        for o in planned.values()
        if o.kind == kind and o.subject == subject
    }


# --- reporting periods of a 2026–2030 plan -----------------------------------------------------


def test_the_six_month_report_of_2027_is_reminded_on_the_working_days_around_10_june(
    planned: dict[str, ReminderOccurrence],
) -> None:
    # "trước ngày 10/6 hằng năm": in 2027 that is Thursday 10/06, the first late day.
    assert fired_on(planned, ReminderKind.BEFORE_DEADLINE, "sau-thang-2027") == {
        10: date(2027, 5, 27),
        5: date(2027, 6, 3),
        2: date(2027, 6, 8),
        1: date(2027, 6, 9),
    }
    assert fired_on(planned, ReminderKind.OVERDUE, "sau-thang-2027") == {
        1: date(2027, 6, 10),
        3: date(2027, 6, 14),
        5: date(2027, 6, 16),
        10: date(2027, 6, 23),
    }
    reminder = planned["truoc-han:sau-thang-2027:1"]
    assert reminder.fire_at == local(date(2027, 6, 9)) and reminder.expires_on == date(2027, 6, 10)
    assert planned["tong-hop:sau-thang-2027"].fire_at == local(date(2027, 6, 10), DIGEST)


def test_every_year_of_the_plan_has_its_six_month_and_annual_reminders(
    planned: dict[str, ReminderOccurrence],
) -> None:
    for year in range(2026, 2031):
        for series in ("sau-thang", "tong-ket-nam"):
            assert f"truoc-han:{series}-{year}:1" in planned
            assert f"qua-han:{series}-{year}:10" in planned
    fired = [o.fire_at.date() for o in planned.values()]
    assert date(2026, 3, 10) < min(fired) and max(fired) <= date(2031, 1, 7)


def test_a_report_due_by_a_sunday_is_last_reminded_on_the_friday_before(
    planned: dict[str, ReminderOccurrence],
) -> None:
    # "Chậm nhất ngày 15 tháng cuối quý": 15/03/2026 is a Sunday, the last working day on time
    # Friday 13/03, the first late day Monday 16/03. The plan is issued on Tuesday 10/03, so
    # only the reminders after that day remain.
    assert fired_on(planned, ReminderKind.BEFORE_DEADLINE, "bao-luc-quy-2026-q1") == {
        2: date(2026, 3, 12),
        1: date(2026, 3, 13),
    }
    assert fired_on(planned, ReminderKind.OVERDUE, "bao-luc-quy-2026-q1")[1] == date(2026, 3, 16)


def test_a_report_due_by_a_monday_is_last_reminded_that_monday(
    planned: dict[str, ReminderOccurrence],
) -> None:
    # 15/03/2027 is a Monday: still on time that day, late from Tuesday 16/03.
    assert fired_on(planned, ReminderKind.BEFORE_DEADLINE, "bao-luc-quy-2027-q1") == {
        10: date(2027, 3, 2),
        5: date(2027, 3, 9),
        2: date(2027, 3, 12),
        1: date(2027, 3, 15),
    }
    assert fired_on(planned, ReminderKind.OVERDUE, "bao-luc-quy-2027-q1") == {
        1: date(2027, 3, 16),
        3: date(2027, 3, 18),
        5: date(2027, 3, 22),
        10: date(2027, 3, 29),
    }


# --- the Action Month every year ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "kickoff", "closing"),
    [
        pytest.param(2026, date(2026, 11, 16), date(2026, 12, 15), id="2026-starts-on-a-sunday"),
        pytest.param(2027, date(2027, 11, 15), date(2027, 12, 15), id="2027"),
        pytest.param(2028, date(2028, 11, 15), date(2028, 12, 15), id="2028"),
        pytest.param(2029, date(2029, 11, 15), date(2029, 12, 14), id="2029-ends-on-a-saturday"),
        pytest.param(2030, date(2030, 11, 15), date(2030, 12, 13), id="2030-ends-on-a-sunday"),
    ],
)
def test_the_action_month_is_launched_and_closed_every_year(
    planned: dict[str, ReminderOccurrence], year: int, kickoff: date, closing: date
) -> None:
    run = f"thang-hanh-dong-{year}"
    launch = planned[f"phat-dong:{run}"]
    assert (launch.fire_at, launch.subject) == (local(kickoff), run)
    assert launch.expires_on == date(year, 12, 16)
    close = planned[f"ket-thuc:{run}"]
    assert (close.kind, close.fire_at, close.subject) == (
        ReminderKind.CAMPAIGN_CLOSING,
        local(closing),
        run,
    )
    # It asks for the run's result report, due "trước ngày 20/12", and is moot from that day.
    assert (close.period, close.expires_on) == (f"ket-qua-thd-{year}", date(year, 12, 20))
    checkins = [
        o for o in planned.values() if o.kind == ReminderKind.CAMPAIGN_CHECKIN and o.subject == run
    ]
    assert [o.week for o in sorted(checkins)] == [2, 3, 4, 5]
    assert all(kickoff < o.fire_at.date() < closing for o in checkins)


def test_the_action_month_of_2026_is_checked_in_on_mondays(
    planned: dict[str, ReminderOccurrence],
) -> None:
    checkins = sorted(
        o
        for o in planned.values()
        if o.kind == ReminderKind.CAMPAIGN_CHECKIN and o.subject == "thang-hanh-dong-2026"
    )
    assert [(o.key, o.fire_at) for o in checkins] == [
        (f"hang-tuan:thang-hanh-dong-2026:{day.isoformat()}", local(day))
        for day in (date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14))
    ]


def test_the_result_report_of_each_run_is_reminded_like_any_report(
    planned: dict[str, ReminderOccurrence],
) -> None:
    # Due before Sunday 20/12/2026: the last working day before it is Friday 18/12.
    assert planned["truoc-han:ket-qua-thd-2026:1"].fire_at == local(date(2026, 12, 18))
    assert planned["qua-han:ket-qua-thd-2026:1"].fire_at == local(date(2026, 12, 21))


CLOSING_ON_A_MONDAY = """\
format: 2
code: dot-cao-diem
number: 3/KH-UBND
title: Kế hoạch đợt cao điểm
issuer: Ủy ban nhân dân tỉnh Thử
province: Thử
issued_on: 2026-10-01
timezone: Asia/Ho_Chi_Minh
coordinator: SNV
period: {from: 2026, to: 2026}
cross_cutting:
  - section: II.1
    title: Đợt cao điểm
    tasks: [Tổ chức đợt cao điểm.]
responsibilities:
  - section: IV.1
    heading: Sở Nội vụ
    kind: department
    units: [{code: SNV, name: Sở Nội vụ, short_name: Sở Nội vụ}]
    tasks: [Theo dõi.]
  - section: IV.2
    heading: Sở Y tế
    kind: department
    units: [{code: SYT, name: Sở Y tế, short_name: Sở Y tế}]
    tasks: [Tuyên truyền.]
reports:
  - code: nam
    title: Báo cáo tổng kết {label}
    every: year
    due: 10/12
campaigns:
  - code: dot
    section: II.1
    title: Đợt cao điểm phòng, chống bạo lực trên cơ sở giới
    starts: 02/11/2026
    ends: 16/11/2026
    result_report: {code: ket-qua-dot, title: Báo cáo kết quả đợt cao điểm, days_after: 5}
"""


def test_a_check_in_on_the_closing_day_gives_way_to_the_closing_reminder() -> None:
    spec = parse_plan(CLOSING_ON_A_MONDAY)
    planned = reminder_calendar(spec, WorkingCalendar(ZONE))
    campaign = [(o.kind, o.fire_at.date()) for o in planned if o.subject == "dot"]
    assert campaign == [
        (ReminderKind.CAMPAIGN_KICKOFF, date(2026, 11, 2)),
        (ReminderKind.CAMPAIGN_CHECKIN, date(2026, 11, 9)),
        (ReminderKind.CAMPAIGN_CLOSING, date(2026, 11, 16)),
    ]


def test_a_campaign_without_check_ins_or_result_report_is_only_launched() -> None:
    result_report = CLOSING_ON_A_MONDAY[CLOSING_ON_A_MONDAY.index("    result_report:") :]
    text = CLOSING_ON_A_MONDAY.replace(result_report, "    checkins: none\n")
    planned = reminder_calendar(parse_plan(text), WorkingCalendar(ZONE))
    assert [o.kind for o in planned if o.subject == "dot"] == [ReminderKind.CAMPAIGN_KICKOFF]


def test_a_missed_check_in_is_dropped_once_the_closing_reminder_is_due() -> None:
    planned = reminder_calendar(parse_plan(CLOSING_ON_A_MONDAY), WorkingCalendar(ZONE))
    [checkin] = [o for o in planned if o.kind == ReminderKind.CAMPAIGN_CHECKIN]
    calendar = WorkingCalendar(ZONE)
    decision = plan_catch_up(checkin, local(date(2026, 11, 16), time(9, 0)), calendar, plan=planned)
    assert decision.action == CatchUpAction.DROPPED
    assert decision.reason == "the newer reminder ket-thuc:dot is due by then"
    # The same decision from an index built once for the whole plan.
    index = SeriesIndex(planned)
    again = plan_catch_up(checkin, local(date(2026, 11, 16), time(9, 0)), calendar, plan=index)
    assert again == decision
    missed_closing = next(o for o in planned if o.kind == ReminderKind.CAMPAIGN_CLOSING)
    late = plan_catch_up(
        missed_closing, local(date(2026, 11, 17), time(9, 0)), calendar, plan=index
    )
    assert (late.action, late.at) == (CatchUpAction.LATE, local(date(2026, 11, 17), time(9, 0)))


def test_a_reminder_missed_for_years_is_dropped_without_counting_every_day_since(
    seed_spec: PlanSpec,
) -> None:
    calendar = WorkingCalendar(ZONE)
    planned = reminder_calendar(seed_spec, calendar)
    last = next(o for o in planned if o.key == "qua-han:tong-ket-nam:10")
    decision = plan_catch_up(last, local(date(2026, 3, 2)), calendar, plan=planned)
    assert (decision.action, decision.reason) == (
        CatchUpAction.DROPPED,
        "it would be more than 60 working days late",
    )


# --- digests ------------------------------------------------------------------------------------


def test_digests_run_weekly_over_the_plans_span_and_on_each_due_date(
    example: PlanSpec, planned: dict[str, ReminderOccurrence]
) -> None:
    digests = sorted(o for o in planned.values() if o.kind == ReminderKind.DIGEST)
    # Issued Tuesday 10/03/2026: the first digest is the Monday after, which is also the first
    # late day of the first quarterly report; the last is in the week after 31/12/2030.
    assert (digests[0].key, digests[0].fire_at) == (
        "tong-hop:bao-luc-quy-2026-q1",
        local(date(2026, 3, 16), DIGEST),
    )
    assert (digests[-1].key, digests[-1].fire_at) == (
        "tong-hop:2031-01-06",
        local(date(2031, 1, 6), DIGEST),
    )
    # One on the first working day from each period's due date, whatever else falls that day.
    calendar = WorkingCalendar(ZONE)
    due_days = {calendar.on_or_after(p.due_before) for p in example.reporting_periods()}
    assert due_days <= {d.fire_at.date() for d in digests}
    # Weekly in between: one a week at most, never two weeks without one (Tết takes a week).
    weeks = [d.fire_at.isocalendar()[:2] for d in digests if d.subject is None]
    assert len(weeks) == len(set(weeks))
    days = [d.fire_at.date() for d in digests]
    assert max((b - a).days for a, b in pairwise(days)) <= 14
    assert all(calendar.is_working_day(day) for day in days)


def test_a_plan_of_2021_has_no_digest_after_its_year_is_over(seed_spec: PlanSpec) -> None:
    digests = [
        o for o in reminder_calendar(seed_spec, WorkingCalendar(ZONE)) if o.kind == "tong-hop"
    ]
    assert max(o.fire_at for o in digests) == local(date(2022, 1, 4), DIGEST)


# --- the seed plan: every key and date as before --------------------------------------------------

SEED_CALENDAR = {
    "tong-hop:2021-03-15": "15/03/2021 16:30",
    "tong-hop:2021-03-22": "22/03/2021 16:30",
    "tong-hop:2021-03-29": "29/03/2021 16:30",
    "tong-hop:2021-04-05": "05/04/2021 16:30",
    "tong-hop:2021-04-12": "12/04/2021 16:30",
    "tong-hop:2021-04-19": "19/04/2021 16:30",
    "tong-hop:2021-04-26": "26/04/2021 16:30",
    "tong-hop:2021-05-04": "04/05/2021 16:30",
    "tong-hop:2021-05-10": "10/05/2021 16:30",
    "tong-hop:2021-05-17": "17/05/2021 16:30",
    "tong-hop:2021-05-24": "24/05/2021 16:30",
    "truoc-han:so-ket-6-thang:10": "27/05/2021 08:30",
    "tong-hop:2021-05-31": "31/05/2021 16:30",
    "truoc-han:so-ket-6-thang:5": "03/06/2021 08:30",
    "tong-hop:2021-06-07": "07/06/2021 16:30",
    "truoc-han:so-ket-6-thang:2": "08/06/2021 08:30",
    "truoc-han:so-ket-6-thang:1": "09/06/2021 08:30",
    "qua-han:so-ket-6-thang:1": "10/06/2021 08:30",
    "tong-hop:so-ket-6-thang": "10/06/2021 16:30",
    "qua-han:so-ket-6-thang:3": "14/06/2021 08:30",
    "tong-hop:2021-06-14": "14/06/2021 16:30",
    "qua-han:so-ket-6-thang:5": "16/06/2021 08:30",
    "tong-hop:2021-06-21": "21/06/2021 16:30",
    "qua-han:so-ket-6-thang:10": "23/06/2021 08:30",
    "tong-hop:2021-06-28": "28/06/2021 16:30",
    "tong-hop:2021-07-05": "05/07/2021 16:30",
    "tong-hop:2021-07-12": "12/07/2021 16:30",
    "tong-hop:2021-07-19": "19/07/2021 16:30",
    "tong-hop:2021-07-26": "26/07/2021 16:30",
    "tong-hop:2021-08-02": "02/08/2021 16:30",
    "tong-hop:2021-08-09": "09/08/2021 16:30",
    "tong-hop:2021-08-16": "16/08/2021 16:30",
    "tong-hop:2021-08-23": "23/08/2021 16:30",
    "tong-hop:2021-08-30": "30/08/2021 16:30",
    "tong-hop:2021-09-06": "06/09/2021 16:30",
    "tong-hop:2021-09-13": "13/09/2021 16:30",
    "tong-hop:2021-09-20": "20/09/2021 16:30",
    "tong-hop:2021-09-27": "27/09/2021 16:30",
    "tong-hop:2021-10-04": "04/10/2021 16:30",
    "tong-hop:2021-10-11": "11/10/2021 16:30",
    "tong-hop:2021-10-18": "18/10/2021 16:30",
    "tong-hop:2021-10-25": "25/10/2021 16:30",
    "tong-hop:2021-11-01": "01/11/2021 16:30",
    "tong-hop:2021-11-08": "08/11/2021 16:30",
    "phat-dong:thang-hanh-dong": "15/11/2021 08:30",
    "tong-hop:2021-11-15": "15/11/2021 16:30",
    "hang-tuan:thang-hanh-dong:2021-11-22": "22/11/2021 08:30",
    "tong-hop:2021-11-22": "22/11/2021 16:30",
    "truoc-han:tong-ket-nam:10": "26/11/2021 08:30",
    "hang-tuan:thang-hanh-dong:2021-11-29": "29/11/2021 08:30",
    "tong-hop:2021-11-29": "29/11/2021 16:30",
    "truoc-han:tong-ket-nam:5": "03/12/2021 08:30",
    "hang-tuan:thang-hanh-dong:2021-12-06": "06/12/2021 08:30",
    "tong-hop:2021-12-06": "06/12/2021 16:30",
    "truoc-han:tong-ket-nam:2": "08/12/2021 08:30",
    "truoc-han:tong-ket-nam:1": "09/12/2021 08:30",
    "qua-han:tong-ket-nam:1": "10/12/2021 08:30",
    "tong-hop:tong-ket-nam": "10/12/2021 16:30",
    "hang-tuan:thang-hanh-dong:2021-12-13": "13/12/2021 08:30",
    "tong-hop:2021-12-13": "13/12/2021 16:30",
    "qua-han:tong-ket-nam:3": "14/12/2021 08:30",
    "qua-han:tong-ket-nam:5": "16/12/2021 08:30",
    "tong-hop:2021-12-20": "20/12/2021 16:30",
    "qua-han:tong-ket-nam:10": "23/12/2021 08:30",
}


def test_the_seed_plan_keeps_every_reminder_key_and_time(seed_spec: PlanSpec) -> None:
    """Deployed databases hold jobs under these keys: none may change or move."""
    planned = {
        o.key: o.fire_at.strftime("%d/%m/%Y %H:%M")
        for o in reminder_calendar(seed_spec, WorkingCalendar(ZONE))
    }
    assert {key: planned.get(key) for key in SEED_CALENDAR} == SEED_CALENDAR
    # Only the weekly digests to the end of the plan's year are new.
    assert sorted(set(planned) - set(SEED_CALENDAR)) == [
        "tong-hop:2021-12-27",
        "tong-hop:2022-01-04",
    ]


# --- the closing reminder, as sent --------------------------------------------------------------


@pytest.fixture
def campaign_plan(database: Database) -> tuple[Plan, PlanSpec]:
    spec = parse_plan(CLOSING_ON_A_MONDAY)
    plan = database.run_sync(load_plan, spec, source_file="dot-cao-diem.yaml", now=REGISTERED_AT)
    return plan, spec


def test_the_closing_reminder_asks_for_the_result_report_in_whole_sentences(
    database: Database, campaign_plan: tuple[Plan, PlanSpec]
) -> None:
    plan, spec = campaign_plan
    database.run_sync(
        add_focal_point,
        plan=plan,
        unit_code="SYT",
        name="Nguyễn Thị Hoa",
        accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
        now=REGISTERED_AT,
    )
    [closing] = [
        o
        for o in reminder_calendar(spec, WorkingCalendar(ZONE))
        if o.kind == ReminderKind.CAMPAIGN_CLOSING
    ]
    messages = fire(database, plan, closing)
    assert recipients(messages) == {("telegram", "7001"), ("zalo", "z-hoa")}
    for message in messages:
        assert message.rule == "ket-thuc"
        assert_vietnamese(message.text)
        assert message.text == "\n".join(
            [
                "🏁 KẾT THÚC ĐỢT CAO ĐIỂM PHÒNG, CHỐNG BẠO LỰC TRÊN CƠ SỞ GIỚI",
                "Đợt cao điểm phòng, chống bạo lực trên cơ sở giới kết thúc ngày 16/11/2026.",
                "Đề nghị Sở Y tế tổng hợp kết quả các hoạt động đã triển khai và gửi Báo cáo kết "
                "quả đợt cao điểm theo Kế hoạch số 3/KH-UBND qua Sở Nội vụ trước ngày 21/11/2026: "
                "bấm «Báo cáo ngay» hoặc gõ /baocao.",
            ]
        )
    assert texts.REPORT_ACTION in str(messages[0].buttons)


# Công an tỉnh joins the plan; only Sở Y tế owes a report due during the campaign.
CHECK_IN_PLAN = CLOSING_ON_A_MONDAY.replace(
    "reports:\n",
    "  - section: IV.3\n"
    "    heading: Công an tỉnh\n"
    "    kind: department\n"
    "    units: [{code: CAT, name: Công an tỉnh, short_name: Công an tỉnh}]\n"
    "    tasks: [Phòng, chống bạo lực.]\n"
    "reports:\n"
    "  - code: y-te\n"
    "    title: Báo cáo chuyên đề y tế\n"
    "    due: 12/11/2026\n"
    "    units: [SYT]\n",
)


@pytest.mark.parametrize(
    "kind", [ReminderKind.CAMPAIGN_KICKOFF, ReminderKind.CAMPAIGN_CHECKIN], ids=str
)
def test_a_campaign_reminder_points_each_unit_at_the_next_report_it_owes(
    database: Database, kind: ReminderKind
) -> None:
    spec = parse_plan(CHECK_IN_PLAN)
    plan = database.run_sync(load_plan, spec, source_file="dot-cao-diem.yaml", now=REGISTERED_AT)
    assert plan.id is not None
    for unit_code, user in (("SYT", "7001"), ("CAT", "7004")):
        database.run_sync(
            add_focal_point,
            plan=plan,
            unit_code=unit_code,
            name="Nguyễn Thị Hoa",
            accounts=[Account("telegram", user)],
            now=REGISTERED_AT,
        )
    # The kickoff on Mon 02/11, the check-in on Mon 09/11: the health report is due 12/11.
    [planned] = [o for o in reminder_calendar(spec, WorkingCalendar(ZONE)) if o.kind == kind]
    sent = {m.chat_id: m for m in fire(database, plan, planned)}
    period_ids = {p.code: p.id for p in database.run_sync(plans.periods, plan_id=plan.id)}
    for chat_id, period_code, reminded in [
        ("7001", "y-te", "Báo cáo chuyên đề y tế phải gửi trước ngày 12/11/2026."),
        ("7004", "ket-qua-dot", "Báo cáo kết quả đợt cao điểm phải gửi trước ngày 21/11/2026."),
    ]:
        [[button]] = buttons_from_json(sent[chat_id].buttons)
        assert button.payload == f"{texts.REPORT_ACTION}.{period_ids[period_code]}"
        if kind == ReminderKind.CAMPAIGN_CHECKIN:
            assert sent[chat_id].text.split("\n")[-1] == f"Lưu ý: {reminded}"
