"""APScheduler wiring: one persistent job per reminder occurrence.

Jobs live in the same database (table ``apscheduler_jobs``), each with an explicit id and an
importable function, so a restart finds them again. A job only carries the plan code and the
occurrence key; recipients are resolved when it fires.

Missed reminders follow :func:`scheduler.policy.plan_catch_up`, never APScheduler's grace: jobs
have no misfire grace time (APScheduler hands every job to :func:`fire_reminder`, however late),
and the policy decides, both when :meth:`ReminderScheduler.sync` finds a job that should have
run while the service was down and when a job runs late in a running service: sent now while it
is still the office day, moved to the next working day otherwise (the same job id, so never two
jobs; the outbox key is the occurrence's, so never two messages), or dropped, with an INFO line,
when it is obsolete by then. An occurrence whose job is gone has run: APScheduler deletes a date
job when it runs it, so past occurrences without a job (already sent, or due before the service
first started) are not planned again.

APScheduler runs in its own thread (BackgroundScheduler), so its job-store queries never block
the event loop; a firing job hands the asynchronous work to the service's loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from scheduler.calendar import WorkingCalendar
from scheduler.outbox import OutboxSender
from scheduler.policy import (
    ON_TIME_TOLERANCE,
    CatchUp,
    CatchUpAction,
    ReminderKind,
    ReminderOccurrence,
    SeriesIndex,
    as_sent_on,
    plan_catch_up,
)
from scheduler.reminders import CoordinatorAddress, DigestComposer, enqueue_occurrence
from storage.database import Database
from storage.plan_file import PlanSpec

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
FIRE_TIMEOUT_SECONDS = 300.0
# A firing that failed (database unreachable, loop busy) is tried again this much later, within
# the catch-up rule like any late job; the outbox keys make a retry send nothing twice.
FIRE_RETRY = timedelta(minutes=5)


@dataclass
class ReminderRuntime:
    """What a firing job needs; registered by the composition root at start-up."""

    database: Database
    spec: PlanSpec
    coordinators: Sequence[CoordinatorAddress]
    digest: DigestComposer
    sender: OutboxSender
    clock: Callable[[], datetime]
    occurrences: dict[str, ReminderOccurrence]
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    # The working calendar of the plan's zone and days off unless the composition root passes
    # its own.
    calendar: WorkingCalendar | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.calendar is None:
            self.calendar = WorkingCalendar(self.spec.zone, extra_days_off=self.spec.days_off)

    @property
    def working_calendar(self) -> WorkingCalendar:
        assert self.calendar is not None  # set in __post_init__
        return self.calendar

    def catch_up(
        self, occurrence: ReminderOccurrence, now: datetime, *, index: SeriesIndex | None = None
    ) -> CatchUp:
        """The catch-up decision for ``occurrence``; ``index``: the plan's occurrences by series
        when deciding for many (built here from ``occurrences`` otherwise)."""
        plan = index if index is not None else SeriesIndex(self.occurrences.values())
        return plan_catch_up(occurrence, now, self.working_calendar, plan=plan)

    async def fire(self, occurrence_key: str) -> int:
        """Queue the messages of one occurrence and wake the sender; returns how many.

        A deadline reminder that goes out on a later day than planned counts its working days
        from today (:func:`scheduler.policy.as_sent_on`).
        """
        occurrence = self.occurrences.get(occurrence_key)
        if occurrence is None:
            log.warning("reminder %s is no longer in plan %s", occurrence_key, self.spec.code)
            return 0
        now = self.clock()
        calendar = self.working_calendar
        occurrence = as_sent_on(occurrence, calendar.local_date(now), calendar)
        if (
            occurrence.kind == ReminderKind.BEFORE_DEADLINE
            and occurrence.working_days is not None
            and occurrence.working_days < 1
        ):
            log.info(
                "reminder %s/%s dropped: its deadline has come",
                self.spec.code,
                occurrence_key,
            )
            return 0
        queued = await self.database.run(
            enqueue_occurrence,
            plan_code=self.spec.code,
            occurrence=occurrence,
            coordinators=self.coordinators,
            digest=self.digest,
            now=now,
        )
        log.info("reminder %s/%s queued %d message(s)", self.spec.code, occurrence_key, queued)
        self.sender.wake()
        return queued


_schedulers: dict[str, ReminderScheduler] = {}


def fire_reminder(plan_code: str, occurrence_key: str) -> None:
    """The APScheduler job (runs in APScheduler's thread): importable, plain-string arguments.

    It applies the catch-up rule first: a job that runs late (the machine slept, the executor
    was busy) outside office hours is moved, not sent.
    """
    reminders = _schedulers.get(plan_code)
    runtime = reminders.runtime if reminders is not None else None
    if reminders is None or runtime is None or runtime.loop is None or runtime.loop.is_closed():
        log.error("no running service for plan %s; reminder %s skipped", plan_code, occurrence_key)
        return
    occurrence = runtime.occurrences.get(occurrence_key)
    if occurrence is None:
        log.warning("reminder %s is no longer in plan %s", occurrence_key, plan_code)
        return
    now = runtime.clock()
    decision = runtime.catch_up(occurrence, now)
    if decision.at is None or decision.at > now:
        # Dropped, or moved: a new job under the same id. APScheduler removes the job being run
        # while holding its job-store lock, which add_job waits for, so the new one stays.
        reminders.apply(occurrence, decision)
        return
    future = None
    try:
        future = asyncio.run_coroutine_threadsafe(runtime.fire(occurrence_key), runtime.loop)
        future.result(timeout=FIRE_TIMEOUT_SECONDS)
    except Exception:
        if future is not None:
            future.cancel()
        retry_at = now + FIRE_RETRY
        log.exception(
            "reminder %s/%s failed; trying again at %s",
            plan_code,
            occurrence_key,
            retry_at.isoformat(),
        )
        reminders.schedule(occurrence, retry_at)


def job_id(plan_code: str, occurrence_key: str) -> str:
    return f"{plan_code}/{occurrence_key}"


class ReminderScheduler:
    """Keeps the persistent jobs in step with the plan's reminder calendar."""

    def __init__(self, runtime: ReminderRuntime) -> None:
        self.runtime = runtime
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=runtime.database.engine, tablename=JOB_TABLE)
            },
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={
                # None: however late, APScheduler runs the job, and fire_reminder applies the
                # catch-up rule (APScheduler's own grace would send at night or drop silently).
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=runtime.spec.zone,
        )

    async def start(self, *, paused: bool = False) -> None:
        """Register the runtime with the running loop, then start APScheduler and sync jobs.

        ``paused`` leaves APScheduler paused after the sync: jobs are planned but do not run
        (for tests and dry runs).
        """
        self.runtime.loop = asyncio.get_running_loop()
        _schedulers[self.runtime.spec.code] = self
        await asyncio.to_thread(self._start, paused)

    def _start(self, paused: bool) -> None:
        self.scheduler.start(paused=True)
        self.sync(self.runtime.clock())
        if not paused:
            self.scheduler.resume()

    def sync(self, now: datetime) -> list[ReminderOccurrence]:
        """Plan what is still to run, as of ``now``; returns the occurrences that have a job.

        Upcoming occurrences get (or keep) a job at their time, and so does one that came due
        moments ago (within ON_TIME_TOLERANCE). An occurrence already due whose job is still in
        the store was missed while the service was down: the catch-up rule sends it now, moves
        it or drops it. Jobs the plan no longer has are removed.
        """
        code = self.runtime.spec.code
        prefix = f"{code}/"
        stored = {job.id for job in self.scheduler.get_jobs() if job.id.startswith(prefix)}
        kept: list[ReminderOccurrence] = []
        index = SeriesIndex(self.runtime.occurrences.values())
        for occurrence in sorted(self.runtime.occurrences.values()):
            pending = job_id(code, occurrence.key) in stored
            if not pending and now - occurrence.fire_at > ON_TIME_TOLERANCE:
                continue  # it has run (its job is gone), or it was due before the service began
            decision = self.runtime.catch_up(occurrence, now, index=index)
            if self.apply(occurrence, decision):
                kept.append(occurrence)
        wanted = {job_id(code, o.key) for o in kept}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(prefix) and job.id not in wanted:
                job.remove()
        return kept

    def apply(self, occurrence: ReminderOccurrence, decision: CatchUp) -> bool:
        """Carry out a catch-up decision: (re)plan the job, or drop it; True when planned."""
        code = self.runtime.spec.code
        if decision.action in (CatchUpAction.LATE, CatchUpAction.MOVED, CatchUpAction.DROPPED):
            zone = self.runtime.spec.zone
            moved_to = ""
            if decision.action == CatchUpAction.MOVED and decision.at is not None:
                moved_to = f" to {decision.at.astimezone(zone).isoformat()}"
            log.info(
                "reminder %s/%s due %s was missed: %s%s (%s)",
                code,
                occurrence.key,
                occurrence.fire_at.astimezone(zone).isoformat(),
                decision.action.value,
                moved_to,
                decision.reason,
            )
        if decision.at is None:
            job = self.scheduler.get_job(job_id(code, occurrence.key))
            if job is not None:
                job.remove()
            return False
        self.schedule(occurrence, decision.at)
        return True

    def schedule(self, occurrence: ReminderOccurrence, at: datetime) -> None:
        """The occurrence's one job, to run at ``at`` (replacing any it had)."""
        code = self.runtime.spec.code
        self.scheduler.add_job(
            fire_reminder,
            trigger=DateTrigger(run_date=at),
            id=job_id(code, occurrence.key),
            name=occurrence.key,
            args=[code, occurrence.key],
            replace_existing=True,
        )

    def _shutdown(self) -> None:
        # Detach the job store first: on shutdown APScheduler's loop wakes once more with its
        # executors already stopped, fails to submit every job due by then and deletes it from
        # the store (a paused scheduler too). Detached, the store keeps them for the next start,
        # and the engine, which the rest of the service shares, is not disposed.
        self.scheduler.remove_jobstore("default", shutdown=False)
        # wait=False: a job in flight waits on this loop, so waiting here would deadlock.
        self.scheduler.shutdown(wait=False)

    def pending_job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())

    def pending_jobs(self) -> dict[str, datetime | None]:
        """Job id → when it runs next."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}

    async def shutdown(self) -> None:
        if self.scheduler.running:
            await asyncio.to_thread(self._shutdown)
        if _schedulers.get(self.runtime.spec.code) is self:
            del _schedulers[self.runtime.spec.code]
