"""The APScheduler wiring of reminders against a real database (SQLite, and PostgreSQL when
configured): what a restart does with reminders missed while the service was down, what a job
that runs late does, and that the persistent job and the outbox keys keep it to one message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.dialog.overview import compose_digest
from scheduler import jobs
from scheduler.calendar import WorkingCalendar
from scheduler.jobs import (
    PlanSchedule,
    ReminderRuntime,
    ReminderScheduler,
    fire_reminder,
    job_id,
    plan_schedules,
)
from scheduler.outbox import OutboxSender
from scheduler.policy import ReminderKind, ReminderOccurrence, reminder_calendar
from scheduler.reminders import CoordinatorAddress
from storage import plans, reminder_runs
from storage.database import Database
from storage.models import OutboxMessage, Plan, ReminderRun, RunState
from storage.plan_file import PlanSpec
from tests.fakes.clock import FakeClock
from tests.fakes.outage import DatabaseOutage
from tests.unit.test_calendar_and_policy import REGISTERED_AT, Account, add_focal_point

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SIX_MONTH = "so-ket-6-thang"
FIVE_DAYS_BEFORE = f"truoc-han:{SIX_MONTH}:5"  # Thu 03/06/2021, 08:30
LAST_DAY = f"truoc-han:{SIX_MONTH}:1"  # Wed 09/06/2021, 08:30
FIRST_DAY_LATE = f"qua-han:{SIX_MONTH}:1"  # Thu 10/06/2021, 08:30
COORDINATOR_CHAT = CoordinatorAddress(channel="telegram", chat_id="1001")
SEED = "thai-binh-2021-40-kh-ubnd"

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


def schedules(
    *specs: PlanSpec, occurrences: Sequence[ReminderOccurrence] | None = None
) -> dict[str, PlanSchedule]:
    """Each plan's reminder calendar on Viet Nam's working days (``occurrences`` replaces the
    first plan's)."""
    overrides = {specs[0].code: occurrences} if occurrences is not None else None
    return plan_schedules(
        specs, lambda spec: WorkingCalendar(spec.zone), reminder_calendar, overrides
    )


@asynccontextmanager
async def service(
    database: Database,
    spec: PlanSpec | dict[str, PlanSchedule],
    clock: Clock,
    occurrences: Sequence[ReminderOccurrence] | None = None,
    *,
    paused: bool = True,
) -> AsyncIterator[ReminderScheduler]:
    """The reminder half of the service, as the composition root builds it, for one plan or
    the given schedules (paused: jobs are planned in the database but APScheduler does not run
    them; the test fires them)."""
    runtime = ReminderRuntime(
        database=database,
        plans=spec if isinstance(spec, dict) else schedules(spec, occurrences=occurrences),
        coordinators=(COORDINATOR_CHAT,),
        digest=compose_digest,
        sender=OutboxSender(database, {}, clock=clock),
        clock=clock,
    )
    reminders = ReminderScheduler(runtime)
    await reminders.start(paused=paused)
    try:
        yield reminders
    finally:
        await reminders.shutdown()


def local_jobs(reminders: ReminderScheduler, code: str = SEED) -> dict[str, datetime | None]:
    """Occurrence key → when its job runs, local time, for one plan."""
    prefix = f"{code}/"
    return {
        job.removeprefix(prefix): (when.astimezone(ZONE) if when is not None else None)
        for job, when in reminders.pending_jobs().items()
        if job.startswith(prefix)
    }


def register_health_official(database: Database, plan: Plan) -> None:
    database.run_sync(
        add_focal_point,
        plan=plan,
        unit_code="SYT",
        name="Nguyễn Thị Hoa",
        accounts=[Account("telegram", "7001"), Account("zalo", "z-hoa")],
        now=REGISTERED_AT,
    )


def outbox(database: Database) -> list[OutboxMessage]:
    return list(database.run_sync(lambda s: s.exec(select(OutboxMessage)).all()))


def runs(database: Database, code: str = SEED) -> dict[str, str]:
    """The plan's reminder runs: occurrence key → done or dropped."""

    def read(session: Session) -> dict[str, str]:
        plan = plans.plan_by_code(session, code)
        assert plan is not None
        rows = session.exec(select(ReminderRun).where(ReminderRun.plan_id == plan.id))
        return {row.occurrence_key: RunState(row.state).value for row in rows}

    return database.run_sync(read)


async def fire(reminders: ReminderScheduler, key: str, code: str = SEED) -> None:
    """What APScheduler does when the job is due: run the job function in a worker thread."""
    await asyncio.to_thread(fire_reminder, code, key)


def missed_lines(caplog: pytest.LogCaptureFixture, key: str) -> list[str]:
    """The INFO lines saying what became of the missed occurrence ``key``."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO
        and r.getMessage().startswith(f"reminder {SEED}/{key} due ")
        and "was missed" in r.getMessage()
    ]


def lose_job(database: Database, key: str, code: str = SEED) -> None:
    """What APScheduler does when it hands a due date job to its executor: the job's row leaves
    the store before the job function runs."""
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(f"DELETE FROM {jobs.JOB_TABLE} WHERE id = :id"), {"id": job_id(code, key)}
        )


# --- jobs planned at start-up ---------------------------------------------------------------------


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
    # Besides them, what the catch-up rule still sends of the reminders due before this first
    # start: the ten-days-before one of Thu 27/05 now, the digest of Mon 31/05 at 16:30.
    caught_up = {
        f"truoc-han:{SIX_MONTH}:10": clock(),
        "tong-hop:2021-05-31": at(date(2021, 6, 2), 16, 30),
    }
    assert planned == upcoming | caught_up
    assert planned[FIVE_DAYS_BEFORE] == at(date(2021, 6, 3), 8, 30)
    # The jobs are in the database: the next start finds them.
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert local_jobs(reminders) == planned


async def test_a_first_start_in_the_middle_of_the_plan_sends_only_what_is_still_timely(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    clock = FakeClock(at(date(2021, 6, 21), 10))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    # Of everything due before Monday 21/06 only the fifth working day late (Wed 16/06) is still
    # timely: three working days late, and the tenth (Wed 23/06) not due yet.
    assert {key: when for key, when in planned.items() if when and when <= clock()} == {
        f"qua-han:{SIX_MONTH}:5": clock()
    }
    past = {o.key for o in occurrences if o.fire_at < clock()}
    assert runs(database) == dict.fromkeys(past - {f"qua-han:{SIX_MONTH}:5"}, "dropped")


async def test_a_first_start_more_than_a_working_week_after_a_reminder_never_sends_it(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    # Thu 01/07: the tenth working day late (Wed 23/06) would be six working days late.
    clock = FakeClock(at(date(2021, 7, 1), 10))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)
    assert f"qua-han:{SIX_MONTH}:10" not in planned
    assert min(when for when in planned.values() if when is not None) > clock()
    assert runs(database)[f"qua-han:{SIX_MONTH}:10"] == "dropped"


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
        f"reminder {SEED}/{FIVE_DAYS_BEFORE} due 2021-06-03T08:30:00+07:00 was missed: "
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
        assert all(r.key.startswith(f"{SEED}/{FIVE_DAYS_BEFORE}/") for r in rows)
        for row in rows:
            assert row.text.split("\n")[2] == (
                "Còn 5 ngày làm việc nữa là đến hạn; đơn vị chưa gửi báo cáo."
            )
        # The job running once more (a retry, a second instance) queues nothing new.
        await fire(reminders, FIVE_DAYS_BEFORE)
        assert len(outbox(database)) == 2
    assert runs(database)[FIVE_DAYS_BEFORE] == "done"


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
        assert FIVE_DAYS_BEFORE not in runs(database)
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == at(date(2021, 6, 4), 8, 30)
        clock.set(at(date(2021, 6, 4), 8, 30))
        await fire(reminders, FIVE_DAYS_BEFORE)
    rows = outbox(database)
    assert len(rows) == 2
    for row in rows:
        assert row.key.startswith(f"{SEED}/{FIVE_DAYS_BEFORE}/")
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
        f"reminder {SEED}/{LAST_DAY} due 2021-06-09T08:30:00+07:00 was missed: "
        "dropped (its deadline (2021-06-10) has come)"
    ]
    assert runs(database)[LAST_DAY] == "dropped"


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
    assert runs(database)[LAST_DAY] == "dropped"


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


# --- once, and never lost: the run record ---------------------------------------------------------


async def test_a_reminder_that_ran_is_not_planned_again_after_a_restart(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        await fire(reminders, FIVE_DAYS_BEFORE)
        # The job is still in the store (APScheduler is paused here), as after a kill between
        # the commit and APScheduler's own bookkeeping.
        assert FIVE_DAYS_BEFORE in local_jobs(reminders)
    clock.set(at(date(2021, 6, 3), 11))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert FIVE_DAYS_BEFORE not in local_jobs(reminders)
        await fire(reminders, FIVE_DAYS_BEFORE)
    assert len(outbox(database)) == 2


@pytest.mark.parametrize(
    ("restart", "sent_at", "days_left"),
    [
        pytest.param(at(date(2021, 6, 3), 11), at(date(2021, 6, 3), 11), 5, id="same-morning"),
        pytest.param(at(date(2021, 6, 3), 19), at(date(2021, 6, 4), 8, 30), 4, id="evening"),
    ],
)
async def test_a_due_job_lost_from_the_store_before_it_ran_is_sent_after_a_restart(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    restart: datetime,
    sent_at: datetime,
    days_left: int,
) -> None:
    """The crash window: APScheduler took the job out of its store, and the process died
    before the reminder's transaction committed."""
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 7))
    async with service(database, seed_spec, clock, occurrences):
        clock.set(at(date(2021, 6, 3), 8, 30))
        lose_job(database, FIVE_DAYS_BEFORE)
    assert outbox(database) == [] and FIVE_DAYS_BEFORE not in runs(database)
    clock.set(restart)
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == sent_at
        clock.set(sent_at)
        await fire(reminders, FIVE_DAYS_BEFORE)
    rows = outbox(database)
    assert sorted((r.channel, r.chat_id) for r in rows) == [("telegram", "7001"), ("zalo", "z-hoa")]
    for row in rows:
        assert f"Còn {days_left} ngày làm việc nữa là đến hạn" in row.text
    assert runs(database)[FIVE_DAYS_BEFORE] == "done"


async def test_a_job_lost_from_the_store_while_the_service_runs_is_planned_again_within_15_min(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    """An instance that lost leadership as APScheduler handed it the job took the job out of
    the shared store and went: the leader's periodic check plans it again."""
    clock = FakeClock(at(date(2021, 6, 3), 7))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        planned = local_jobs(reminders)[FIVE_DAYS_BEFORE]
        lose_job(database, FIVE_DAYS_BEFORE)
        assert FIVE_DAYS_BEFORE not in local_jobs(reminders)
        check = reminders.scheduler.get_job("resync", jobstore=jobs.LOCAL_STORE)
        assert check is not None and check.trigger.interval == timedelta(minutes=15)
        await asyncio.to_thread(check.func)
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == planned
    assert outbox(database) == [] and FIVE_DAYS_BEFORE not in runs(database)


@pytest.mark.parametrize("state", [RunState.DONE, RunState.DROPPED], ids=str)
async def test_a_firing_that_finds_a_run_record_queues_nothing(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    info_logs: pytest.LogCaptureFixture,
    state: RunState,
) -> None:
    """Another instance (or an earlier firing) dealt with the occurrence; since then a focal
    point has registered, who must not receive it now."""
    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        assert seed_plan.id is not None
        database.run_sync(
            reminder_runs.claim_run,
            plan_id=seed_plan.id,
            occurrence_key=FIVE_DAYS_BEFORE,
            state=state,
            now=clock(),
        )
        register_health_official(database, seed_plan)
        clock.set(at(date(2021, 6, 3), 8, 31))
        await fire(reminders, FIVE_DAYS_BEFORE)
    assert outbox(database) == []
    assert runs(database)[FIVE_DAYS_BEFORE] == state.value
    assert any(
        r.getMessage() == f"reminder {SEED}/{FIVE_DAYS_BEFORE} has run already"
        for r in info_logs.records
    )


# --- a database that fails at fire time -----------------------------------------------------------


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param("reminder_runs", id="the-run-record"),
        # The run record was written first: it must go with the messages' rollback.
        pytest.param("INSERT INTO outbox", id="the-messages"),
    ],
)
async def test_a_firing_whose_transaction_fails_is_planned_again_five_minutes_later(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        with DatabaseOutage(database.engine, only=[failing]) as outage:
            await fire(reminders, FIVE_DAYS_BEFORE)
        assert outage.refused > 0
        assert outbox(database) == [] and FIVE_DAYS_BEFORE not in runs(database)
        assert local_jobs(reminders)[FIVE_DAYS_BEFORE] == at(date(2021, 6, 3), 8, 35)
        clock.set(at(date(2021, 6, 3), 8, 35))
        await fire(reminders, FIVE_DAYS_BEFORE)
    assert len(outbox(database)) == 2
    assert any("failed; trying again" in r.getMessage() for r in caplog.records)


async def test_a_firing_with_the_database_unreachable_is_retried_by_a_timer(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    retry = job_id(SEED, FIVE_DAYS_BEFORE)
    async with service(database, seed_spec, clock, occurrences) as reminders:
        lose_job(database, FIVE_DAYS_BEFORE)  # APScheduler hands the job over, then it fails
        with DatabaseOutage(database.engine):
            await fire(reminders, FIVE_DAYS_BEFORE)
        assert reminders.pending_retries() == {retry: at(date(2021, 6, 3), 8, 35)}
        assert FIVE_DAYS_BEFORE not in local_jobs(reminders)
        clock.set(at(date(2021, 6, 3), 8, 35))
        await fire(reminders, FIVE_DAYS_BEFORE)  # the timer goes off
    assert len(outbox(database)) == 2
    assert runs(database)[FIVE_DAYS_BEFORE] == "done"


async def test_a_retry_that_comes_after_office_hours_with_the_database_still_down_is_kept(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    register_health_official(database, seed_plan)
    clock = FakeClock(at(date(2021, 6, 3), 16, 58))
    retry = job_id(SEED, FIVE_DAYS_BEFORE)
    async with service(database, seed_spec, clock, occurrences) as reminders:
        lose_job(database, FIVE_DAYS_BEFORE)
        with DatabaseOutage(database.engine):
            await fire(reminders, FIVE_DAYS_BEFORE)
            clock.set(at(date(2021, 6, 3), 17, 3))
            await fire(reminders, FIVE_DAYS_BEFORE)  # the timer goes off: now it must move
        assert reminders.pending_retries() == {retry: at(date(2021, 6, 4), 8, 30)}
        clock.set(at(date(2021, 6, 4), 8, 30))
        await fire(reminders, FIVE_DAYS_BEFORE)
    assert len(outbox(database)) == 2
    assert runs(database)[FIVE_DAYS_BEFORE] == "done"


async def test_a_retry_that_would_be_obsolete_is_dropped_with_a_run_record(
    database: Database,
    seed_plan: Plan,
    seed_spec: PlanSpec,
    occurrences: list[ReminderOccurrence],
) -> None:
    register_health_official(database, seed_plan)
    # The last day before the deadline, two minutes before the office closes.
    clock = FakeClock(at(date(2021, 6, 9), 16, 58))
    async with service(database, seed_spec, clock, occurrences) as reminders:
        with DatabaseOutage(database.engine, only=["reminder_runs"]):
            await fire(reminders, LAST_DAY)
        assert local_jobs(reminders)[LAST_DAY] == at(date(2021, 6, 9), 17, 3)
        clock.set(at(date(2021, 6, 9), 17, 3))
        await fire(reminders, LAST_DAY)  # by the next working morning the deadline has come
        assert LAST_DAY not in local_jobs(reminders)
    assert outbox(database) == []
    assert runs(database)[LAST_DAY] == "dropped"


# --- the real APScheduler -------------------------------------------------------------------------


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
    assert runs(database) == {FIVE_DAYS_BEFORE: "done"}


async def test_a_job_of_a_plan_without_a_running_service_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await asyncio.to_thread(fire_reminder, "khong-co-ke-hoach", FIVE_DAYS_BEFORE)
    assert any("no running service" in r.getMessage() for r in caplog.records)
