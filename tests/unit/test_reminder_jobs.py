"""The APScheduler wiring of reminders against a real database (SQLite, and PostgreSQL when
configured): what a restart does with reminders missed while the service was down, what a job
that runs late does, and that the persistent job and the outbox keys keep it to one message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.dialog.overview import compose_digest
from scheduler import jobs
from scheduler.calendar import WorkingCalendar
from scheduler.jobs import ReminderRuntime, ReminderScheduler, fire_reminder, job_id
from scheduler.outbox import OutboxSender
from scheduler.policy import ReminderKind, ReminderOccurrence, reminder_calendar
from scheduler.reminders import CoordinatorAddress
from storage.database import Database
from storage.models import OutboxMessage, Plan
from storage.plan_file import PlanSpec
from tests.fakes.clock import FakeClock
from tests.unit.test_calendar_and_policy import REGISTERED_AT, Account, add_focal_point

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SIX_MONTH = "so-ket-6-thang"
FIVE_DAYS_BEFORE = f"truoc-han:{SIX_MONTH}:5"  # Thu 03/06/2021, 08:30
LAST_DAY = f"truoc-han:{SIX_MONTH}:1"  # Wed 09/06/2021, 08:30
FIRST_DAY_LATE = f"qua-han:{SIX_MONTH}:1"  # Thu 10/06/2021, 08:30
COORDINATOR_CHAT = CoordinatorAddress(channel="telegram", chat_id="1001")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def occurrences(seed_spec: PlanSpec) -> list[ReminderOccurrence]:
    return reminder_calendar(seed_spec, WorkingCalendar(ZONE))


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="scheduler.jobs")
    return caplog


@asynccontextmanager
async def service(
    database: Database,
    spec: PlanSpec,
    clock: Clock,
    occurrences: Sequence[ReminderOccurrence],
    *,
    paused: bool = True,
) -> AsyncIterator[ReminderScheduler]:
    """The reminder half of the service, as the composition root builds it (paused: jobs are
    planned in the database but APScheduler does not run them; the test fires them)."""
    runtime = ReminderRuntime(
        database=database,
        spec=spec,
        coordinators=(COORDINATOR_CHAT,),
        digest=compose_digest,
        sender=OutboxSender(database, {}, clock=clock),
        clock=clock,
        occurrences={o.key: o for o in occurrences},
    )
    reminders = ReminderScheduler(runtime)
    await reminders.start(paused=paused)
    try:
        yield reminders
    finally:
        await reminders.shutdown()


def local_jobs(reminders: ReminderScheduler) -> dict[str, datetime | None]:
    """Occurrence key → when its job runs, local time."""
    prefix = f"{reminders.runtime.spec.code}/"
    return {
        job.removeprefix(prefix): (when.astimezone(ZONE) if when is not None else None)
        for job, when in reminders.pending_jobs().items()
    }


def register_health_official(database: Database, plan: Plan) -> None:
    database.run_sync(
        add_focal_point,
        plan=plan,
        agency_code="SYT",
        name="Nguyễn Thị Hoa",
        accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
        now=REGISTERED_AT,
    )


def outbox(database: Database) -> list[OutboxMessage]:
    return list(database.run_sync(lambda s: s.exec(select(OutboxMessage)).all()))


async def fire(reminders: ReminderScheduler, key: str) -> None:
    """What APScheduler does when the job is due: run the job function in a worker thread."""
    await asyncio.to_thread(fire_reminder, reminders.runtime.spec.code, key)


def missed_lines(caplog: pytest.LogCaptureFixture, key: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and key in r.getMessage() and "was missed" in r.getMessage()
    ]


async def test_every_upcoming_reminder_gets_one_persistent_job_at_its_time(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    clock = FakeClock(at(date(2021, 6, 2), 10))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    upcoming = {o.key: o.fire_at for o in occurrences if o.fire_at > clock()}
    assert planned == upcoming
    assert planned[FIVE_DAYS_BEFORE] == at(date(2021, 6, 3), 8, 30)
    # The jobs are in the database: the next start finds them.
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert local_jobs(reminders) == upcoming


async def test_a_reminder_missed_in_the_evening_moves_to_the_next_working_morning_once(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    info_logs: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(at(date(2021, 6, 2), 10))
    async with service(database, seed_spec, clock, occurrences):
        pass
    # Down from Wednesday morning until Thursday 19:00: Thursday's 08:30 reminder was missed.
    clock.set(at(date(2021, 6, 3), 19))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    assert planned[FIVE_DAYS_BEFORE] == at(date(2021, 6, 4), 8, 30)
    assert planned[f"truoc-han:{SIX_MONTH}:2"] == at(date(2021, 6, 8), 8, 30)
    assert missed_lines(info_logs, FIVE_DAYS_BEFORE) == [
        f"reminder {seed_spec.code}/{FIVE_DAYS_BEFORE} due 2021-06-03T08:30:00+07:00 was missed: "
        "moved to 2021-06-04T08:30:00+07:00 (outside office hours)"
    ]
    # Restarted again that night: still the one job, still Friday morning.
    clock.set(at(date(2021, 6, 3), 23, 45))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        again = local_jobs(reminders)
    assert again == planned
    assert sum(1 for key in again if key.startswith(f"truoc-han:{SIX_MONTH}:")) == 3


async def test_a_reminder_missed_earlier_the_same_office_day_goes_out_once_on_restart(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    info_logs: pytest.LogCaptureFixture,
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 7))
    async with service(database, seed_spec, clock, occurrences):
        pass
    clock.set(at(date(2021, 6, 3), 11))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == at(date(2021, 6, 3), 11)
        assert "sent late" in missed_lines(info_logs, FIVE_DAYS_BEFORE)[0]
        await fire(reminders, FIVE_DAYS_BEFORE)
        rows = outbox(database)
        assert sorted((r.channel, r.chat_id) for r in rows) == [
            ("telegram", "7001"),
            ("zalo", "z-hoa"),
        ]
        assert all(r.key.startswith(f"{seed_spec.code}/{FIVE_DAYS_BEFORE}/") for r in rows)
        for row in rows:
            assert row.text.split("\n")[2] == (
                "Còn 5 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo."
            )
        # The job running once more (a second restart, a retry) queues nothing new.
        await fire(reminders, FIVE_DAYS_BEFORE)
        assert len(outbox(database)) == 2


async def test_a_job_that_runs_late_after_office_hours_is_moved_and_recounts_its_days(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 7))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        # The machine slept through 08:30; APScheduler runs the job at 19:00.
        clock.set(at(date(2021, 6, 3), 19))
        await fire(reminders, FIVE_DAYS_BEFORE)
        assert outbox(database) == []
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == at(date(2021, 6, 4), 8, 30)
        clock.set(at(date(2021, 6, 4), 8, 30))
        await fire(reminders, FIVE_DAYS_BEFORE)
    rows = outbox(database)
    assert len(rows) == 2
    for row in rows:
        assert row.key.startswith(f"{seed_spec.code}/{FIVE_DAYS_BEFORE}/")
        # Friday 04/06: 04, 07, 08 and 09/06 are left before 10/06.
        assert row.text.split("\n")[2] == (
            "Còn 4 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo."
        )


async def test_a_missed_reminder_obsolete_by_the_next_working_day_is_dropped_with_a_reason(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    info_logs: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(at(date(2021, 6, 9), 7))
    async with service(database, seed_spec, clock, occurrences):
        pass
    clock.set(at(date(2021, 6, 9), 18))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    assert LAST_DAY not in planned
    assert planned[FIRST_DAY_LATE] == at(date(2021, 6, 10), 8, 30)
    assert missed_lines(info_logs, LAST_DAY) == [
        f"reminder {seed_spec.code}/{LAST_DAY} due 2021-06-09T08:30:00+07:00 was missed: "
        "dropped (its deadline (2021-06-10) has come)"
    ]


async def test_a_job_found_obsolete_when_it_runs_sends_nothing(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    info_logs: pytest.LogCaptureFixture,
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 9), 7))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        clock.set(at(date(2021, 6, 10), 9))
        await fire(reminders, LAST_DAY)
        assert outbox(database) == []
        assert "dropped" in missed_lines(info_logs, LAST_DAY)[0]
        assert LAST_DAY not in local_jobs(reminders)


async def test_reminders_already_past_without_a_job_are_not_planned_again(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    # First start in the middle of the plan: nothing from before it is sent.
    clock = FakeClock(at(date(2021, 6, 21), 10))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    assert min(when for when in planned.values() if when is not None) > clock()
    assert planned[f"qua-han:{SIX_MONTH}:10"] == at(date(2021, 6, 23), 8, 30)
    # A job that ran is gone from the store (APScheduler deletes a date job when it runs it):
    # a restart later that day does not plan it again.
    clock.set(at(date(2021, 6, 22), 7))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        reminders.scheduler.remove_job(job_id(seed_spec.code, f"qua-han:{SIX_MONTH}:10"))
    clock.set(at(date(2021, 6, 23), 11))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert f"qua-han:{SIX_MONTH}:10" not in local_jobs(reminders)


async def test_a_reminder_that_came_due_moments_before_the_start_is_sent(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    clock = FakeClock(at(date(2021, 6, 3), 8, 32))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == clock()


async def test_a_reminder_removed_from_the_plan_loses_its_job(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    clock = FakeClock(at(date(2021, 6, 2), 10))
    async with service(database, seed_spec, clock, occurrences):
        pass
    fewer = [o for o in occurrences if o.key != FIVE_DAYS_BEFORE]
    async with service(database, seed_spec, clock, fewer) as reminders:
        planned = local_jobs(reminders)
    assert FIVE_DAYS_BEFORE not in planned
    assert f"truoc-han:{SIX_MONTH}:2" in planned


async def test_a_failed_firing_is_tried_again_later(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def database_down(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("database unreachable")

    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        monkeypatch.setattr(jobs, "enqueue_occurrence", database_down)
        await fire(reminders, FIVE_DAYS_BEFORE)
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == at(date(2021, 6, 3), 8, 35)
    assert any("failed; trying again" in r.getMessage() for r in caplog.records)


async def test_apscheduler_runs_a_due_job_through_the_catch_up_rule(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    """Real time, real APScheduler: a job due in a moment runs and queues its messages."""
    register_health_official(database, seed_plan)
    due = ReminderOccurrence(
        fire_at=utc_now() + timedelta(seconds=1),
        key=FIVE_DAYS_BEFORE,
        kind=ReminderKind.BEFORE_DEADLINE,
        subject=SIX_MONTH,
        working_days=5,
    )
    async with service(database, seed_spec, utc_now, [due], paused=False) as reminders:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while len(outbox(database)) < 2:
            assert loop.time() < deadline, "the job did not run"
            await asyncio.sleep(0.1)
        assert reminders.pending_job_ids() == []
    assert {r.rule for r in outbox(database)} == {"truoc-han"}


async def test_a_job_of_a_plan_without_a_running_service_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await asyncio.to_thread(fire_reminder, "khong-co-ke-hoach", FIVE_DAYS_BEFORE)
    assert any("no running service" in r.getMessage() for r in caplog.records)
