"""The working calendar of Viet Nam, the pure reminder policy for the seed plan, who a reminder
reaches when it fires, and how its Vietnamese text reads."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.dialog.overview import LEGEND, compose_digest
from scheduler import texts
from scheduler.calendar import WorkingCalendar
from scheduler.policy import (
    ON_TIME_TOLERANCE,
    CatchUpAction,
    ReminderKind,
    ReminderOccurrence,
    as_sent_on,
    find_occurrence,
    plan_catch_up,
    reminder_calendar,
)
from scheduler.reminders import CoordinatorAddress, messages_for_occurrence
from storage import invites, outbox, people, plans, reports
from storage.database import Database
from storage.models import Campaign, OutboxMessage, Plan, ReportStatus, StatusUpdate
from storage.plan_file import OFFICE_DAY_END, CampaignSpec, DeadlineSpec, PlanSpec

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = time(8, 30)
DIGEST = time(16, 30)
SIX_MONTH = "so-ket-6-thang"
ANNUAL = "tong-ket-nam"
ACTION_MONTH = "thang-hanh-dong"
COORDINATOR_CHAT = CoordinatorAddress(channel="telegram", chat_id="1001")
VIETNAMESE_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def local(day: date, clock: time = OFFICE) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZONE)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar(ZONE)


@pytest.fixture
def occurrences(seed_spec: PlanSpec, calendar: WorkingCalendar) -> list[ReminderOccurrence]:
    return reminder_calendar(seed_spec, calendar)


def occurrence(occurrences: Sequence[ReminderOccurrence], key: str) -> ReminderOccurrence:
    found = find_occurrence(occurrences, key)
    assert found is not None, f"no occurrence {key!r} in {[o.key for o in occurrences]}"
    return found


def sent_at(
    planned: ReminderOccurrence,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    plan: Sequence[ReminderOccurrence] = (),
) -> datetime | None:
    """When the catch-up rule sends ``planned``, seen at ``now``; None: dropped."""
    return plan_catch_up(planned, now, calendar, plan=plan).at


# --- the working calendar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        pytest.param(date(2021, 1, 1), "Tết Dương lịch", id="new-year"),
        pytest.param(date(2021, 2, 10), "Tết", id="tet-29"),
        pytest.param(date(2021, 2, 11), "Giao thừa", id="tet-eve"),
        pytest.param(date(2021, 2, 12), "Tết Nguyên Đán", id="tet-day-1"),
        pytest.param(date(2021, 2, 13), "Tết Nguyên Đán", id="tet-day-2-saturday"),
        pytest.param(date(2021, 2, 15), "Tết Nguyên Đán", id="tet-day-4"),
        pytest.param(date(2021, 2, 16), "Tết Nguyên Đán", id="tet-day-5"),
        pytest.param(date(2021, 4, 21), "Hùng Vương", id="hung-kings"),
        pytest.param(date(2021, 4, 30), "Chiến thắng", id="reunification"),
        pytest.param(date(2021, 5, 1), "Lao động", id="labour-day-saturday"),
        pytest.param(date(2021, 5, 3), "nghỉ bù", id="labour-day-compensation"),
        pytest.param(date(2021, 9, 2), "Quốc khánh", id="national-day"),
        pytest.param(date(2021, 9, 3), "Quốc khánh", id="national-day-second"),
    ],
)
def test_a_vietnamese_public_holiday_is_not_a_working_day_and_is_named_in_vietnamese(
    calendar: WorkingCalendar, day: date, name_part: str
) -> None:
    name = calendar.holiday_name(day)
    assert name is not None and name_part in name
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [date(2021, 6, 5), date(2021, 6, 6), date(2021, 11, 20), date(2021, 11, 21)],
    ids=["sat-05-06", "sun-06-06", "sat-20-11", "sun-21-11"],
)
def test_a_weekend_day_is_not_a_working_day_though_it_is_no_holiday(
    calendar: WorkingCalendar, day: date
) -> None:
    assert calendar.holiday_name(day) is None
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2021, 2, 17),  # the first day back after Tết
        date(2021, 4, 20),  # the day before Giỗ Tổ Hùng Vương
        date(2021, 4, 29),
        date(2021, 5, 4),  # the first day back after 30/04–03/05
        date(2021, 6, 9),
        date(2021, 6, 10),
        date(2021, 9, 6),
        date(2021, 11, 15),
        date(2021, 12, 10),
    ],
    ids=str,
)
def test_an_ordinary_weekday_is_a_working_day(calendar: WorkingCalendar, day: date) -> None:
    assert calendar.holiday_name(day) is None
    assert calendar.is_working_day(day)


def test_the_first_working_day_on_or_after_a_holiday_skips_the_whole_break(
    calendar: WorkingCalendar,
) -> None:
    # 30/04 (Fri) and 01/05 (Sat) are holidays, 02/05 is a Sunday and 03/05 the day off in lieu.
    assert calendar.on_or_after(date(2021, 4, 30)) == date(2021, 5, 4)
    assert calendar.on_or_after(date(2021, 2, 10)) == date(2021, 2, 17)
    assert calendar.on_or_after(date(2021, 6, 9)) == date(2021, 6, 9)


def test_counting_working_days_forwards_jumps_over_holidays(calendar: WorkingCalendar) -> None:
    # 31/08 (Tue), 01/09 (Wed), then 02–03/09 National Day and a weekend: the third is 06/09.
    assert calendar.nth_on_or_after(date(2021, 8, 31), 3) == date(2021, 9, 6)
    # 09/02 (Tue), then Tết from 10/02 to 16/02: the second is 17/02.
    assert calendar.nth_on_or_after(date(2021, 2, 9), 2) == date(2021, 2, 17)


def test_counting_working_days_backwards_jumps_over_holidays(calendar: WorkingCalendar) -> None:
    assert calendar.nth_before(date(2021, 5, 4), 1) == date(2021, 4, 29)
    assert calendar.nth_before(date(2021, 4, 22), 1) == date(2021, 4, 20)
    assert calendar.nth_before(date(2021, 2, 18), 2) == date(2021, 2, 9)


@pytest.mark.parametrize(
    ("start", "end", "working_days"),
    [
        # 26–29/04, then 30/04 and 03/05 off, then 04–06/05.
        (date(2021, 4, 26), date(2021, 5, 7), 7),
        # 08–09/02, the Tết week off, then 17–19/02.
        (date(2021, 2, 8), date(2021, 2, 22), 5),
        # Monday to Monday around Giỗ Tổ (Wed 21/04).
        (date(2021, 4, 19), date(2021, 4, 26), 4),
        # An ordinary week.
        (date(2021, 6, 7), date(2021, 6, 14), 5),
    ],
    ids=["30-04", "tet", "gio-to", "ordinary"],
)
def test_working_days_between_two_dates_leave_out_holidays_and_weekends(
    calendar: WorkingCalendar, start: date, end: date, working_days: int
) -> None:
    assert calendar.working_days_between(start, end) == working_days
    assert calendar.working_days_between(end, start) == -working_days


def test_a_day_off_the_province_adds_is_not_a_working_day() -> None:
    calendar = WorkingCalendar(ZONE, days_off={date(2021, 6, 9): "Nghỉ theo quyết định"})
    assert calendar.holiday_name(date(2021, 6, 9)) == "Nghỉ theo quyết định"
    assert not calendar.is_working_day(date(2021, 6, 9))
    assert calendar.nth_before(date(2021, 6, 10), 1) == date(2021, 6, 8)


def test_a_local_time_is_seven_hours_ahead_of_utc(calendar: WorkingCalendar) -> None:
    moment = calendar.at(date(2021, 6, 9), OFFICE)
    assert moment.utcoffset() == timedelta(hours=7)
    assert moment.astimezone(UTC) == datetime(2021, 6, 9, 1, 30, tzinfo=UTC)
    assert calendar.local_date(datetime(2021, 6, 9, 17, 30, tzinfo=UTC)) == date(2021, 6, 10)


# --- the reminder policy for the seed plan -------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        pytest.param(
            SIX_MONTH,
            {
                10: date(2021, 5, 27),
                5: date(2021, 6, 3),
                2: date(2021, 6, 8),
                1: date(2021, 6, 9),
            },
            id="before-10-06-2021",
        ),
        pytest.param(
            ANNUAL,
            {
                10: date(2021, 11, 26),
                5: date(2021, 12, 3),
                2: date(2021, 12, 8),
                1: date(2021, 12, 9),
            },
            id="before-10-12-2021",
        ),
    ],
)
def test_before_deadline_reminders_fall_on_working_days_before_the_report_is_due(
    occurrences: list[ReminderOccurrence], deadline: str, expected: dict[int, date]
) -> None:
    planned = {
        o.working_days: o.fire_at
        for o in occurrences
        if o.kind == ReminderKind.BEFORE_DEADLINE and o.subject == deadline
    }
    assert planned == {n: local(day) for n, day in expected.items()}
    for n, day in expected.items():
        assert occurrence(occurrences, f"truoc-han:{deadline}:{n}").fire_at == local(day)


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        pytest.param(
            SIX_MONTH,
            {
                1: date(2021, 6, 10),
                3: date(2021, 6, 14),
                5: date(2021, 6, 16),
                10: date(2021, 6, 23),
            },
            id="after-10-06-2021",
        ),
        pytest.param(
            ANNUAL,
            {
                1: date(2021, 12, 10),
                3: date(2021, 12, 14),
                5: date(2021, 12, 16),
                10: date(2021, 12, 23),
            },
            id="after-10-12-2021",
        ),
    ],
)
def test_overdue_pings_count_working_days_from_the_first_late_day(
    occurrences: list[ReminderOccurrence], deadline: str, expected: dict[int, date]
) -> None:
    planned = {
        o.working_days: o.fire_at
        for o in occurrences
        if o.kind == ReminderKind.OVERDUE and o.subject == deadline
    }
    assert planned == {n: local(day) for n, day in expected.items()}


def test_reminders_fire_at_half_past_eight_in_thai_binh_which_is_half_past_one_utc(
    occurrences: list[ReminderOccurrence],
) -> None:
    first = occurrence(occurrences, f"truoc-han:{SIX_MONTH}:10")
    assert first.fire_at.tzinfo == ZONE
    assert first.fire_at.astimezone(UTC) == datetime(2021, 5, 27, 1, 30, tzinfo=UTC)


def test_the_action_month_is_launched_on_its_first_day(
    occurrences: list[ReminderOccurrence],
) -> None:
    kickoffs = [o for o in occurrences if o.kind == ReminderKind.CAMPAIGN_KICKOFF]
    assert [(o.key, o.subject, o.fire_at) for o in kickoffs] == [
        (f"phat-dong:{ACTION_MONTH}", ACTION_MONTH, local(date(2021, 11, 15)))
    ]


def test_the_action_month_has_a_check_in_every_monday_after_the_launch(
    occurrences: list[ReminderOccurrence],
) -> None:
    checkins = [o for o in occurrences if o.kind == ReminderKind.CAMPAIGN_CHECKIN]
    assert [(o.fire_at, o.week, o.subject) for o in checkins] == [
        (local(date(2021, 11, 22)), 2, ACTION_MONTH),
        (local(date(2021, 11, 29)), 3, ACTION_MONTH),
        (local(date(2021, 12, 6)), 4, ACTION_MONTH),
        (local(date(2021, 12, 13)), 5, ACTION_MONTH),
    ]
    assert checkins[0].key == f"hang-tuan:{ACTION_MONTH}:2021-11-22"


def test_the_coordinator_gets_a_digest_on_each_deadline_day_in_the_afternoon(
    occurrences: list[ReminderOccurrence],
) -> None:
    assert occurrence(occurrences, f"tong-hop:{SIX_MONTH}").fire_at == local(
        date(2021, 6, 10), DIGEST
    )
    assert occurrence(occurrences, f"tong-hop:{ANNUAL}").fire_at == local(
        date(2021, 12, 10), DIGEST
    )


def test_a_weekly_digest_due_on_a_holiday_monday_moves_to_the_next_working_day(
    occurrences: list[ReminderOccurrence],
) -> None:
    # Monday 03/05/2021 is the day off in lieu of 01/05.
    assert find_occurrence(occurrences, "tong-hop:2021-05-03") is None
    assert occurrence(occurrences, "tong-hop:2021-05-04").fire_at == local(date(2021, 5, 4), DIGEST)
    assert occurrence(occurrences, "tong-hop:2021-05-10").fire_at == local(
        date(2021, 5, 10), DIGEST
    )


def test_no_reminder_ever_falls_on_a_weekend_or_a_holiday(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    assert occurrences
    for o in occurrences:
        day = o.fire_at.astimezone(ZONE).date()
        assert calendar.is_working_day(day), (o.key, day, calendar.holiday_name(day))


def test_every_reminder_fires_in_office_hours_in_asia_ho_chi_minh(
    occurrences: list[ReminderOccurrence],
) -> None:
    for o in occurrences:
        assert o.fire_at.utcoffset() == timedelta(hours=7), o.key
        expected = DIGEST if o.kind == ReminderKind.DIGEST else OFFICE
        assert o.fire_at.astimezone(ZONE).time() == expected, o.key


def test_no_reminder_fires_before_the_plan_was_issued(
    occurrences: list[ReminderOccurrence], seed_spec: PlanSpec
) -> None:
    assert min(o.fire_at for o in occurrences).date() > seed_spec.issued_on


def test_every_occurrence_key_is_unique(occurrences: list[ReminderOccurrence]) -> None:
    keys = [o.key for o in occurrences]
    assert len(keys) == len(set(keys))


def test_the_calendar_is_deterministic_and_in_time_order(
    seed_spec: PlanSpec, occurrences: list[ReminderOccurrence]
) -> None:
    again = reminder_calendar(seed_spec, WorkingCalendar(ZoneInfo(seed_spec.timezone)))
    assert again == occurrences
    assert [o.fire_at for o in occurrences] == sorted(o.fire_at for o in occurrences)


def test_the_seed_plan_calls_for_each_kind_of_reminder(
    occurrences: list[ReminderOccurrence],
) -> None:
    counts = {kind: sum(1 for o in occurrences if o.kind == kind) for kind in ReminderKind}
    assert counts[ReminderKind.BEFORE_DEADLINE] == 8
    assert counts[ReminderKind.OVERDUE] == 8
    assert counts[ReminderKind.CAMPAIGN_KICKOFF] == 1
    assert counts[ReminderKind.CAMPAIGN_CHECKIN] == 4
    assert counts[ReminderKind.DIGEST] > 2


def test_a_before_deadline_reminder_that_would_precede_the_plan_is_dropped(
    seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    # Issued Monday 08/03/2021; a report due before Friday 12/03 leaves room for 2 and 1 only.
    spec = seed_spec.model_copy(
        update={
            "deadlines": [
                DeadlineSpec(code="gap", title="Báo cáo nhanh", due_before=date(2021, 3, 12))
            ],
            "campaigns": [],
        }
    )
    before = {
        o.working_days: o.fire_at.date()
        for o in reminder_calendar(spec, calendar)
        if o.kind == ReminderKind.BEFORE_DEADLINE
    }
    assert before == {1: date(2021, 3, 11), 2: date(2021, 3, 10)}


def test_deadline_reminders_step_around_the_holidays_of_the_plan_year(
    seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    spec = seed_spec.model_copy(
        update={
            "deadlines": [
                # Due before Tuesday 04/05: 30/04 and 03/05 are off.
                DeadlineSpec(code="sau-30-4", title="Báo cáo quý", due_before=date(2021, 5, 4)),
                # Due before National Day, itself a holiday.
                DeadlineSpec(code="quoc-khanh", title="Báo cáo", due_before=date(2021, 9, 2)),
            ],
            "campaigns": [],
        }
    )
    planned = reminder_calendar(spec, calendar)
    assert occurrence(planned, "truoc-han:sau-30-4:1").fire_at == local(date(2021, 4, 29))
    assert occurrence(planned, "truoc-han:sau-30-4:2").fire_at == local(date(2021, 4, 28))
    assert occurrence(planned, "qua-han:sau-30-4:1").fire_at == local(date(2021, 5, 4))
    assert occurrence(planned, "truoc-han:quoc-khanh:1").fire_at == local(date(2021, 9, 1))
    assert occurrence(planned, "qua-han:quoc-khanh:1").fire_at == local(date(2021, 9, 6))
    assert occurrence(planned, "qua-han:quoc-khanh:3").fire_at == local(date(2021, 9, 8))


def test_a_campaign_check_in_on_a_holiday_monday_moves_to_the_next_working_day(
    seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    campaign = CampaignSpec(
        code="thang-5",
        section="II.2",
        title="Đợt cao điểm tháng 5",
        starts_on=date(2021, 4, 26),
        ends_on=date(2021, 5, 12),
    )
    spec = seed_spec.model_copy(update={"campaigns": [campaign]})
    planned = reminder_calendar(spec, calendar)
    checkins = [o for o in planned if o.kind == ReminderKind.CAMPAIGN_CHECKIN]
    assert occurrence(planned, "phat-dong:thang-5").fire_at == local(date(2021, 4, 26))
    assert [(o.fire_at, o.week) for o in checkins] == [
        (local(date(2021, 5, 4)), 2),
        (local(date(2021, 5, 10)), 3),
    ]


# --- who receives a reminder -------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    channel: str
    user_id: str


def add_focal_point(
    session: Session,
    *,
    plan: Plan,
    unit_code: str,
    name: str,
    accounts: Sequence[Account],
    now: datetime,
) -> int:
    """Register a focal point of the unit's organisation through an invite of ``plan`` (which
    they so join) on its first account, then link the others; returns its id."""
    assert plan.id is not None and accounts
    unit = plans.unit_by_code(session, plan_id=plan.id, code=unit_code)
    assert unit is not None
    invite = invites.create_invite(
        session, unit=unit, created_by="test", now=now, ttl=timedelta(days=7)
    )
    first, *others = accounts
    focal_point = people.register_focal_point(
        session,
        invite=invite,
        channel=first.channel,
        user_id=first.user_id,
        chat_id=first.user_id,
        display_name=name,
        full_name=name,
        position="Chuyên viên",
        phone="0912345678",
        now=now,
    )
    assert focal_point.id is not None
    for account in others:
        link = invites.create_link_code(
            session,
            focal_point_id=focal_point.id,
            organisation_id=focal_point.organisation_id,
            created_by="test",
            now=now,
            ttl=timedelta(days=7),
        )
        people.link_channel_account(
            session,
            invite=link,
            channel=account.channel,
            user_id=account.user_id,
            chat_id=account.user_id,
            display_name=name,
            now=now,
        )
    assert focal_point.id is not None
    return focal_point.id


def add_status_update(
    session: Session, *, plan: Plan, unit_code: str, period_code: str, at: datetime
) -> None:
    assert plan.id is not None
    unit = plans.unit_by_code(session, plan_id=plan.id, code=unit_code)
    period = plans.period_by_code(session, plan_id=plan.id, code=period_code)
    assert unit is not None
    assert period is not None and period.id is not None
    reports.record_status_update(
        session,
        StatusUpdate(
            plan_id=plan.id,
            organisation_id=unit.organisation_id,
            period_id=period.id,
            channel="telegram",
            status=ReportStatus.IN_PROGRESS,
            progress=50,
            created_at=at,
        ),
    )


def fire(
    database: Database, plan: Plan, planned: ReminderOccurrence, *, now: datetime | None = None
) -> list[OutboxMessage]:
    return database.run_sync(
        messages_for_occurrence,
        plan=plan,
        occurrence=planned,
        coordinators=(COORDINATOR_CHAT,),
        digest=compose_digest,
        now=now or planned.fire_at,
    )


def recipients(messages: Sequence[OutboxMessage]) -> set[tuple[str, str]]:
    return {(m.channel, m.chat_id) for m in messages}


REGISTERED_AT = datetime(2021, 5, 3, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "key",
    [f"truoc-han:{SIX_MONTH}:2", f"qua-han:{SIX_MONTH}:1", f"qua-han:{SIX_MONTH}:10"],
)
def test_a_deadline_reminder_reaches_every_open_account_of_units_that_have_not_reported(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence], key: str
) -> None:
    planned = occurrence(occurrences, key)

    def arrange(session: Session) -> None:
        def add(unit_code: str, name: str, *accounts: Account) -> int:
            return add_focal_point(
                session,
                plan=seed_plan,
                unit_code=unit_code,
                name=name,
                accounts=accounts,
                now=REGISTERED_AT,
            )

        # Sở Y tế: two focal points, one on Telegram and Zalo, one on Telegram only.
        add("SYT", "Nguyễn Thị Hoa", Account("telegram", "7001"), Account("zalo", "z-hoa"))
        add("SYT", "Trần Văn Nam", Account("telegram", "7002"))
        # Sở Tư pháp has reported for the six-month report: nobody there is reminded.
        add("STP", "Lê Thị Lan", Account("telegram", "7003"), Account("zalo", "z-lan"))
        add_status_update(
            session,
            plan=seed_plan,
            unit_code="STP",
            period_code=SIX_MONTH,
            at=datetime(2021, 5, 20, 3, 0, tzinfo=UTC),
        )
        # Công an tỉnh blocked the bot on Telegram; Zalo still reaches them.
        add("CAT", "Phạm Văn Hùng", Account("telegram", "7004"), Account("zalo", "z-hung"))
        people.mark_chat_blocked(
            session, channel="telegram", chat_id="7004", now=datetime(2021, 5, 4, tzinfo=UTC)
        )
        # Hội LHPN reported for the other deadline only: still reminded for this one.
        add("HLHPN", "Đỗ Thị Mai", Account("zalo", "z-mai"))
        add_status_update(
            session,
            plan=seed_plan,
            unit_code="HLHPN",
            period_code=ANNUAL,
            at=datetime(2021, 5, 20, 3, 0, tzinfo=UTC),
        )
        # The coordinator (Sở LĐTBXH) receives the reports; it is never reminded to send one.
        add("SLDTBXH", "Vũ Thị Thu", Account("telegram", "7005"), Account("zalo", "z-thu"))

    database.run_sync(arrange)
    messages = fire(database, seed_plan, planned)

    assert recipients(messages) == {
        ("telegram", "7001"),
        ("zalo", "z-hoa"),
        ("telegram", "7002"),
        ("zalo", "z-hung"),
        ("zalo", "z-mai"),
    }
    assert len(messages) == len(recipients(messages))
    assert len({m.key for m in messages}) == len(messages)
    assert all(m.key.startswith(f"{seed_plan.code}/{key}/") for m in messages)
    assert {m.rule for m in messages} == {planned.kind.value}


def test_a_deadline_reminder_reaches_nobody_once_every_unit_has_reported(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence]
) -> None:
    planned = occurrence(occurrences, f"truoc-han:{SIX_MONTH}:1")

    def arrange(session: Session) -> None:
        assert seed_plan.id is not None
        add_focal_point(
            session,
            plan=seed_plan,
            unit_code="SYT",
            name="Nguyễn Thị Hoa",
            accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
            now=REGISTERED_AT,
        )
        for unit in plans.units(session, plan_id=seed_plan.id, reporting_only=True):
            add_status_update(
                session,
                plan=seed_plan,
                unit_code=unit.code,
                period_code=SIX_MONTH,
                at=datetime(2021, 6, 1, 3, 0, tzinfo=UTC),
            )

    database.run_sync(arrange)
    assert fire(database, seed_plan, planned) == []


def test_a_reminder_reaches_a_unit_without_focal_points_nowhere(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence]
) -> None:
    assert fire(database, seed_plan, occurrence(occurrences, f"qua-han:{SIX_MONTH}:3")) == []


@pytest.mark.parametrize(
    ("updated_ago", "pinged"),
    [
        pytest.param(timedelta(hours=2), False, id="2-hours-ago"),
        pytest.param(timedelta(days=6, hours=23), False, id="6-days-23-hours-ago"),
        pytest.param(timedelta(days=8), True, id="8-days-ago"),
        pytest.param(timedelta(days=30), True, id="30-days-ago"),
    ],
)
def test_a_weekly_check_in_skips_units_that_updated_within_the_last_seven_days(
    database: Database,
    seed_plan: Plan,
    occurrences: list[ReminderOccurrence],
    updated_ago: timedelta,
    pinged: bool,
) -> None:
    planned = occurrence(occurrences, f"hang-tuan:{ACTION_MONTH}:2021-11-22")

    def arrange(session: Session) -> None:
        for code, name, user in [
            ("SYT", "Nguyễn Thị Hoa", "7001"),
            ("CAT", "Phạm Văn Hùng", "7004"),
            ("SLDTBXH", "Vũ Thị Thu", "7005"),
        ]:
            add_focal_point(
                session,
                plan=seed_plan,
                unit_code=code,
                name=name,
                accounts=[Account("telegram", user), Account("zalo", f"z-{user}")],
                now=REGISTERED_AT,
            )
        add_status_update(
            session,
            plan=seed_plan,
            unit_code="SYT",
            period_code=ANNUAL,
            at=planned.fire_at - updated_ago,
        )

    database.run_sync(arrange)
    messages = fire(database, seed_plan, planned)

    # Công an tỉnh never updated: always pinged. The coordinator: never.
    expected = {("telegram", "7004"), ("zalo", "z-7004")}
    if pinged:
        expected |= {("telegram", "7001"), ("zalo", "z-7001")}
    assert recipients(messages) == expected
    assert {m.rule for m in messages} == {"hang-tuan"}


def test_firing_the_same_reminder_twice_gives_the_same_outbox_keys(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence]
) -> None:
    planned = occurrence(occurrences, f"truoc-han:{SIX_MONTH}:5")
    database.run_sync(
        add_focal_point,
        plan=seed_plan,
        unit_code="SYT",
        name="Nguyễn Thị Hoa",
        accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
        now=REGISTERED_AT,
    )
    first = fire(database, seed_plan, planned)
    again = fire(database, seed_plan, planned, now=planned.fire_at + timedelta(minutes=5))
    assert sorted(m.key for m in first) == sorted(m.key for m in again)
    assert len(first) == 2
    queued = database.run_sync(outbox.enqueue_outbox, first)
    assert queued == 2
    assert database.run_sync(outbox.enqueue_outbox, again) == 0


# --- what a reminder says ------------------------------------------------------------------------


def texts_for(
    database: Database, plan: Plan, planned: ReminderOccurrence, unit_code: str = "SYT"
) -> list[str]:
    database.run_sync(
        add_focal_point,
        plan=plan,
        unit_code=unit_code,
        name="Nguyễn Thị Hoa",
        accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
        now=REGISTERED_AT,
    )
    messages = fire(database, plan, planned)
    assert len(messages) == 2
    return [m.text for m in messages]


def assert_vietnamese(text: str) -> None:
    assert VIETNAMESE_LETTERS & set(text.lower()), text
    assert text == unicodedata.normalize("NFC", text), "text must be NFC-normalised"


SIX_MONTH_LINE = (
    "Báo cáo sơ kết 6 tháng theo Kế hoạch số 40/KH-UBND phải gửi qua Sở LĐTBXH "
    "trước ngày 10/06/2021."
)
ANNUAL_LINE = (
    "Báo cáo tổng kết năm theo Kế hoạch số 40/KH-UBND phải gửi qua Sở LĐTBXH trước ngày 10/12/2021."
)


def before_deadline(deadline_line: str, when: str) -> str:
    return "\n".join(
        [
            "⏰ NHẮC VIỆC — Sở Y tế",
            deadline_line,
            f"{when}; đơn vị chưa gửi báo cáo.",
            "Bấm «Báo cáo ngay» hoặc gõ /baocao để cập nhật tình hình thực hiện.",
        ]
    )


def overdue(deadline_line: str, late: str) -> str:
    return "\n".join(
        [
            "⚠️ QUÁ HẠN — Sở Y tế",
            deadline_line,
            f"Đến nay đơn vị vẫn chưa gửi báo cáo{late}.",
            "Đề nghị đơn vị khẩn trương gửi báo cáo: bấm «Báo cáo ngay» hoặc gõ /baocao.",
        ]
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param(
            f"truoc-han:{SIX_MONTH}:10",
            before_deadline(SIX_MONTH_LINE, "Còn 10 ngày làm việc nữa là đến hạn"),
            id="10-days-before",
        ),
        pytest.param(
            f"truoc-han:{SIX_MONTH}:5",
            before_deadline(SIX_MONTH_LINE, "Còn 5 ngày làm việc nữa là đến hạn"),
            id="5-days-before",
        ),
        pytest.param(
            f"truoc-han:{SIX_MONTH}:2",
            before_deadline(SIX_MONTH_LINE, "Còn 2 ngày làm việc nữa là đến hạn"),
            id="2-days-before",
        ),
        pytest.param(
            f"truoc-han:{SIX_MONTH}:1",
            before_deadline(SIX_MONTH_LINE, "Hôm nay là ngày làm việc cuối cùng trước hạn"),
            id="last-day",
        ),
        pytest.param(
            f"truoc-han:{ANNUAL}:5",
            before_deadline(ANNUAL_LINE, "Còn 5 ngày làm việc nữa là đến hạn"),
            id="annual-5-days-before",
        ),
        pytest.param(
            f"qua-han:{SIX_MONTH}:1",
            overdue(SIX_MONTH_LINE, "; hôm nay là ngày làm việc đầu tiên quá hạn"),
            id="first-day-late",
        ),
        pytest.param(
            f"qua-han:{SIX_MONTH}:3",
            overdue(SIX_MONTH_LINE, ", đã quá hạn 3 ngày làm việc"),
            id="3-days-late",
        ),
        pytest.param(
            f"qua-han:{SIX_MONTH}:5",
            overdue(SIX_MONTH_LINE, ", đã quá hạn 5 ngày làm việc"),
            id="5-days-late",
        ),
        pytest.param(
            f"qua-han:{SIX_MONTH}:10",
            overdue(SIX_MONTH_LINE, ", đã quá hạn 10 ngày làm việc"),
            id="10-days-late",
        ),
    ],
)
def test_a_deadline_reminder_reads_as_whole_vietnamese_sentences(
    database: Database,
    seed_plan: Plan,
    occurrences: list[ReminderOccurrence],
    key: str,
    expected: str,
) -> None:
    for text in texts_for(database, seed_plan, occurrence(occurrences, key)):
        assert_vietnamese(text)
        assert text == expected


ACTION_MONTH_TITLE = "Tháng hành động vì bình đẳng giới và phòng, chống bạo lực trên cơ sở giới"


def kickoff(unit: str, starts: str, ends: str) -> str:
    return "\n".join(
        [
            "📣 THÁNG HÀNH ĐỘNG VÌ BÌNH ĐẲNG GIỚI VÀ PHÒNG, CHỐNG BẠO LỰC TRÊN CƠ SỞ GIỚI",
            f"Từ ngày {starts} đến ngày {ends}, các cơ quan, đơn vị triển khai "
            f"{ACTION_MONTH_TITLE} theo mục II.2 Kế hoạch số 40/KH-UBND.",
            f"Đề nghị {unit} tổ chức các hoạt động hưởng ứng và cập nhật tiến độ hằng tuần. "
            "Gõ /nhiemvu để xem nhiệm vụ của đơn vị, /baocao để cập nhật tình hình thực hiện.",
        ]
    )


def test_the_action_month_launch_names_its_dates_in_vietnamese(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence]
) -> None:
    launch = occurrence(occurrences, f"phat-dong:{ACTION_MONTH}")
    for text in texts_for(database, seed_plan, launch):
        assert_vietnamese(text)
        assert text == kickoff("Sở Y tế", "15/11/2021", "15/12/2021")


def test_a_launch_moved_past_a_weekend_names_the_campaign_dates_not_today(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    # 15/11/2025 is a Saturday: the launch goes out on Monday 17/11, and must not say "today".
    campaign = CampaignSpec(
        code=ACTION_MONTH,
        section="II.2",
        title=ACTION_MONTH_TITLE,
        starts_on=date(2025, 11, 15),
        ends_on=date(2025, 12, 15),
    )
    spec = seed_spec.model_copy(update={"campaigns": [campaign]})
    launch = occurrence(reminder_calendar(spec, calendar), f"phat-dong:{ACTION_MONTH}")
    assert launch.fire_at == local(date(2025, 11, 17))
    assert seed_plan.id is not None
    unit = database.run_sync(plans.unit_by_code, plan_id=seed_plan.id, code="CAT")
    assert unit is not None
    text = texts.campaign_kickoff_text(
        plan=seed_plan,
        unit=unit,
        campaign=Campaign(
            plan_id=seed_plan.id,
            code=campaign.code,
            series=campaign.code,
            section=campaign.section,
            title=campaign.title,
            starts_on=campaign.starts_on,
            ends_on=campaign.ends_on,
        ),
    )
    assert text == kickoff("Công an tỉnh", "15/11/2025", "15/12/2025")
    assert "hôm nay" not in text.lower()


def test_a_weekly_check_in_reads_as_whole_vietnamese_sentences(
    database: Database, seed_plan: Plan, occurrences: list[ReminderOccurrence]
) -> None:
    planned = occurrence(occurrences, f"hang-tuan:{ACTION_MONTH}:2021-11-29")
    for text in texts_for(database, seed_plan, planned):
        assert_vietnamese(text)
        assert text == "\n".join(
            [
                f"📋 {ACTION_MONTH_TITLE} — tuần thứ 3",
                "Sở Y tế chưa cập nhật tình hình thực hiện trong 7 ngày qua.",
                "Đề nghị đơn vị cho biết các hoạt động đã triển khai (trạng thái, tiến độ, ghi "
                "chú, tệp báo cáo nếu có): bấm «Báo cáo ngay» hoặc gõ /baocao.",
                "Lưu ý: Báo cáo tổng kết năm phải gửi trước ngày 10/12/2021.",
            ]
        )


ANNUAL_COLUMN = "Cột 2: Báo cáo tổng kết năm (hạn trước ngày 10/12/2021) — đã nộp 0/21 (0%)"


@pytest.mark.parametrize(
    ("key", "title", "as_of", "columns"),
    [
        pytest.param(
            f"tong-hop:{SIX_MONTH}",
            "📬 BẢN TIN TỔNG HỢP: HẾT HẠN BÁO CÁO SƠ KẾT 6 THÁNG — Kế hoạch số 40/KH-UBND",
            "(số liệu lúc 16:30 10/06/2021)",
            [
                "Cột 1: Báo cáo sơ kết 6 tháng (hạn trước ngày 10/06/2021) — đã nộp 0/21 (0%); "
                "đúng hạn 0, trễ hạn 0, quá hạn chưa nộp 21",
                ANNUAL_COLUMN,
            ],
            id="deadline-day",
        ),
        # Before the first deadline: the next period, then (room left) the one after it.
        pytest.param(
            "tong-hop:2021-05-10",
            "📬 BẢN TIN TỔNG HỢP HẰNG TUẦN — Kế hoạch số 40/KH-UBND",
            "(số liệu lúc 16:30 10/05/2021)",
            [
                "Cột 1: Báo cáo sơ kết 6 tháng (hạn trước ngày 10/06/2021) — đã nộp 0/21 (0%)",
                ANNUAL_COLUMN,
            ],
            id="weekly",
        ),
    ],
)
def test_the_coordinators_digest_reads_as_whole_vietnamese_lines(
    database: Database,
    seed_plan: Plan,
    occurrences: list[ReminderOccurrence],
    key: str,
    title: str,
    as_of: str,
    columns: list[str],
) -> None:
    [message] = fire(database, seed_plan, occurrence(occurrences, key))
    assert (message.channel, message.chat_id) == ("telegram", COORDINATOR_CHAT.chat_id)
    lines = message.text.split("\n")
    assert_vietnamese(message.text)
    assert lines[:3] == [title, as_of, ""]
    assert lines[3 : 4 + len(columns)] == [*columns, ""]
    assert lines[-2] == LEGEND
    assert lines[-1] == "Gõ /quahan để xem danh sách đơn vị quá hạn, /xuat để tải tệp Excel."


# --- reminders the service missed ----------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


THU_03_06 = date(2021, 6, 3)  # "5 working days before" the six-month report, 08:30


@pytest.mark.parametrize(
    ("now", "expected", "action"),
    [
        pytest.param(at(THU_03_06, 8, 0), at(THU_03_06, 8, 30), "upcoming", id="not-due-yet"),
        pytest.param(at(THU_03_06, 8, 33), at(THU_03_06, 8, 33), "on time", id="on-time"),
        pytest.param(at(THU_03_06, 12, 0), at(THU_03_06, 12, 0), "sent late", id="same-day-noon"),
        pytest.param(
            at(THU_03_06, 16, 59), at(THU_03_06, 16, 59), "sent late", id="same-day-16-59"
        ),
        pytest.param(
            at(THU_03_06, 17, 0), at(date(2021, 6, 4), 8, 30), "moved", id="same-day-17-00"
        ),
        pytest.param(
            at(THU_03_06, 19, 0), at(date(2021, 6, 4), 8, 30), "moved", id="same-day-evening"
        ),
        pytest.param(
            at(date(2021, 6, 4), 3, 0), at(date(2021, 6, 4), 8, 30), "moved", id="next-night"
        ),
        pytest.param(
            at(date(2021, 6, 5), 10, 0), at(date(2021, 6, 7), 8, 30), "moved", id="saturday"
        ),
        # Back on a later working day in office hours: it goes out at once.
        pytest.param(
            at(date(2021, 6, 7), 10, 0), at(date(2021, 6, 7), 10, 0), "sent late", id="monday"
        ),
        pytest.param(
            at(date(2021, 6, 7), 7, 0), at(date(2021, 6, 7), 8, 30), "moved", id="monday-7-00"
        ),
        # By Tuesday 08:30 the "2 working days before" reminder is due: this one is redundant.
        pytest.param(at(date(2021, 6, 7), 18, 0), None, "dropped", id="superseded"),
    ],
)
def test_a_missed_reminder_goes_out_only_in_office_hours_on_a_working_day(
    occurrences: list[ReminderOccurrence],
    calendar: WorkingCalendar,
    now: datetime,
    expected: datetime | None,
    action: str,
) -> None:
    planned = occurrence(occurrences, f"truoc-han:{SIX_MONTH}:5")
    assert planned.fire_at == at(THU_03_06, 8, 30)
    decision = plan_catch_up(planned, now, calendar, plan=occurrences)
    assert (decision.at, decision.action.value) == (expected, action)
    assert sent_at(planned, now, calendar, plan=occurrences) == expected


def test_a_missed_reminder_whose_deadline_has_come_is_dropped(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    last_day = occurrence(occurrences, f"truoc-han:{SIX_MONTH}:1")  # Wed 09/06, 08:30
    assert sent_at(last_day, at(date(2021, 6, 9), 16, 0), calendar, plan=occurrences) == at(
        date(2021, 6, 9), 16, 0
    )
    decision = plan_catch_up(last_day, at(date(2021, 6, 9), 17, 30), calendar, plan=occurrences)
    assert decision.at is None and decision.action == CatchUpAction.DROPPED
    assert "deadline" in decision.reason
    # The same without the plan's expiry date (an occurrence made by hand): the working days
    # left are counted, and none are.
    bare = replace(last_day, expires_on=None)
    assert sent_at(bare, at(date(2021, 6, 9), 17, 30), calendar) is None


def test_a_reminder_missed_before_the_30_04_break_moves_to_the_first_day_back(
    seed_spec: PlanSpec, calendar: WorkingCalendar
) -> None:
    spec = seed_spec.model_copy(
        update={
            "deadlines": [
                # Due before Tue 27/04: 3 working days late on Thu 29/04, 5 on Wed 05/05.
                DeadlineSpec(code="quy-1", title="Báo cáo quý I", due_before=date(2021, 4, 27)),
                # Due before Fri 07/05: 5 working days before on Wed 28/04, 2 on Wed 05/05.
                DeadlineSpec(code="thang-4", title="Báo cáo tháng 4", due_before=date(2021, 5, 7)),
            ],
            "campaigns": [],
        }
    )
    planned = reminder_calendar(spec, calendar)
    late = occurrence(planned, "qua-han:quy-1:3")
    early = occurrence(planned, "truoc-han:thang-4:5")
    assert late.fire_at == at(date(2021, 4, 29), 8, 30)
    assert early.fire_at == at(date(2021, 4, 28), 8, 30)
    # 30/04 and 01/05 are holidays, 02/05 a Sunday, 03/05 the day off in lieu.
    back = at(date(2021, 5, 4), 8, 30)
    for now in (at(date(2021, 4, 29), 19, 0), at(date(2021, 5, 1), 9, 0), at(date(2021, 5, 3), 14)):
        assert sent_at(late, now, calendar, plan=planned) == back
        assert sent_at(early, now, calendar, plan=planned) == back
    # Sent on 04/05, they count from that day.
    assert as_sent_on(late, back.date(), calendar).working_days == 4
    assert as_sent_on(early, back.date(), calendar).working_days == 3
    assert as_sent_on(early, early.fire_at.date(), calendar) == early


def test_a_missed_digest_keeps_its_afternoon_hour(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    digest = occurrence(occurrences, f"tong-hop:{SIX_MONTH}")  # Thu 10/06, 16:30
    thursday, friday = date(2021, 6, 10), date(2021, 6, 11)
    assert sent_at(digest, at(thursday, 16, 50), calendar, plan=occurrences) == at(thursday, 16, 50)
    assert sent_at(digest, at(thursday, 17, 10), calendar, plan=occurrences) == at(friday, 16, 30)
    assert sent_at(digest, at(friday, 9, 0), calendar, plan=occurrences) == at(friday, 16, 30)
    # Back on Monday evening: Monday's weekly digest (16:30) already says everything.
    decision = plan_catch_up(digest, at(date(2021, 6, 14), 18, 0), calendar, plan=occurrences)
    assert decision.at is None and "tong-hop:2021-06-14" in decision.reason


def test_a_missed_weekly_digest_moved_over_a_holiday_monday(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    # The weekly digest of Mon 26/04, missed until Thursday evening: the next working day is
    # Tue 04/05, which is also when the next weekly digest (moved off Mon 03/05) is due.
    digest = occurrence(occurrences, "tong-hop:2021-04-26")
    assert sent_at(digest, at(date(2021, 4, 28), 9, 0), calendar, plan=occurrences) == at(
        date(2021, 4, 28), 16, 30
    )
    decision = plan_catch_up(digest, at(date(2021, 4, 29), 18, 0), calendar, plan=occurrences)
    assert decision.at is None and "tong-hop:2021-05-04" in decision.reason


def test_the_last_reminder_of_a_series_is_not_sent_more_than_a_working_week_late(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    last = occurrence(occurrences, f"qua-han:{SIX_MONTH}:10")  # Wed 23/06
    assert sent_at(last, at(date(2021, 6, 30), 10, 0), calendar, plan=occurrences) == at(
        date(2021, 6, 30), 10, 0
    )
    decision = plan_catch_up(last, at(date(2021, 7, 1), 10, 0), calendar, plan=occurrences)
    assert decision.at is None and "6 working days late" in decision.reason


def test_campaign_reminders_missed_are_dropped_once_superseded_or_after_the_campaign(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    launch = occurrence(occurrences, f"phat-dong:{ACTION_MONTH}")  # Mon 15/11
    assert sent_at(launch, at(date(2021, 11, 16), 9, 0), calendar, plan=occurrences) == at(
        date(2021, 11, 16), 9, 0
    )
    # By Monday 22/11 the week-2 check-in is due.
    assert sent_at(launch, at(date(2021, 11, 22), 9, 0), calendar, plan=occurrences) is None
    last = occurrence(occurrences, f"hang-tuan:{ACTION_MONTH}:2021-12-13")
    assert sent_at(last, at(date(2021, 12, 14), 19, 0), calendar, plan=occurrences) == at(
        date(2021, 12, 15), 8, 30
    )
    # The Action Month ends on 15/12.
    decision = plan_catch_up(last, at(date(2021, 12, 15), 19, 0), calendar, plan=occurrences)
    assert decision.at is None and "2021-12-16" in decision.reason


def test_a_missed_reminder_never_goes_out_outside_office_hours(
    occurrences: list[ReminderOccurrence], calendar: WorkingCalendar
) -> None:
    """Whenever the service comes back, nothing it catches up falls outside office hours."""
    start = at(date(2021, 5, 24), 0, 0)
    for step in range(0, 45 * 24, 3):
        now = start + timedelta(hours=step, minutes=17)
        for planned in occurrences:
            if not planned.fire_at + ON_TIME_TOLERANCE < now:
                continue
            when = sent_at(planned, now, calendar, plan=occurrences)
            if when is None:
                continue
            local_when = when.astimezone(ZONE)
            assert when >= now, (planned.key, now)
            assert calendar.is_working_day(local_when.date()), (planned.key, now, when)
            assert local_when.time() < OFFICE_DAY_END, (planned.key, now, when)
            assert local_when.time() >= planned.fire_at.astimezone(ZONE).time()
