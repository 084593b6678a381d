"""APScheduler wiring: one persistent job per reminder occurrence of every followed plan.

Jobs live in the same database (table ``apscheduler_jobs``), each with an explicit id
(``plan code/occurrence key``) and an importable function, so a restart finds them again. A job
only carries the plan code and the occurrence key; recipients are resolved when it fires. One
scheduler serves every plan (one job store must never be shared by two running schedulers).

What has run is not APScheduler's to say: APScheduler removes a date job from its store when it
hands it to an executor, before the job function runs, so a crash in between would lose the
reminder. The table ``reminder_runs`` is the record instead: an occurrence's row is written in
the same transaction that queues its messages (or when it is dropped as obsolete). At start-up,
and whenever a job runs late, every occurrence without a row follows
:func:`scheduler.policy.plan_catch_up`: sent now while it is still the office day, moved to the
next working day (the same job id, so never two jobs; the row makes a second firing queue
nothing), or dropped, with an INFO line, when it is obsolete by then. A firing that fails (the
database is down) is tried again until it goes out or the catch-up rule drops it.

APScheduler runs in its own thread (BackgroundScheduler), so its job-store queries never block
the event loop; a firing job hands the asynchronous work to the service's loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from scheduler.calendar import WorkingCalendar
from scheduler.outbox import OutboxSender
from scheduler.policy import (
    CatchUp,
    CatchUpAction,
    ReminderKind,
    ReminderOccurrence,
    SeriesIndex,
    as_sent_on,
    plan_catch_up,
)
from scheduler.reminders import CoordinatorAddress, DigestComposer, fire_occurrence
from storage import plans, reminder_runs
from storage.database import Database
from storage.lease import fenced
from storage.models import RunState
from storage.plan_file import PlanSpec

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
LOCAL_STORE = "local"  # jobs of this process only (the periodic sync, the periodic jobs)
PERIODIC_EXECUTOR = "periodic"
FIRST_PERIODIC_RUN = timedelta(minutes=1)  # after the start: the channels are up by then
RESYNC_EVERY = timedelta(minutes=15)
FIRE_TIMEOUT_SECONDS = 300.0
# A firing that failed (database unreachable, loop busy) is tried again this much later, within
# the catch-up rule like any late job; the run record makes a retry send nothing twice.
FIRE_RETRY = timedelta(minutes=5)


@dataclass
class PlanSchedule:
    """One followed plan's reminder calendar, and the working calendar it was computed on."""

    spec: PlanSpec
    calendar: WorkingCalendar
    occurrences: dict[str, ReminderOccurrence]
    index: SeriesIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = SeriesIndex(self.occurrences.values())

    @property
    def code(self) -> str:
        return self.spec.code

    def catch_up(self, occurrence: ReminderOccurrence, now: datetime) -> CatchUp:
        return plan_catch_up(occurrence, now, self.calendar, plan=self.index)


@dataclass(frozen=True)
class PeriodicJob:
    """Work of this process every ``every`` beside the reminders (the export's history cache):
    ``run(loop)`` in a thread of its own, given the service's event loop; the first run a
    minute after the start."""

    name: str
    every: timedelta
    run: Callable[[asyncio.AbstractEventLoop], object]


@dataclass
class ReminderRuntime:
    """What a firing job needs; built by the composition root at start-up."""

    database: Database
    plans: dict[str, PlanSchedule]
    coordinators: Sequence[CoordinatorAddress]
    digest: DigestComposer
    sender: OutboxSender
    clock: Callable[[], datetime]
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    periodic: Sequence[PeriodicJob] = ()

    async def fire(self, plan_code: str, occurrence_key: str) -> int:
        """Queue the messages of one occurrence (once: a second firing queues nothing) and wake
        the sender; returns how many were queued.

        A deadline reminder that goes out on a later day than planned counts its working days
        from today (:func:`scheduler.policy.as_sent_on`).
        """
        schedule = self.plans.get(plan_code)
        planned = schedule.occurrences.get(occurrence_key) if schedule else None
        if schedule is None or planned is None:
            log.warning("reminder %s is no longer in plan %s", occurrence_key, plan_code)
            return 0
        now = self.clock()
        calendar = schedule.calendar
        occurrence = as_sent_on(planned, calendar.local_date(now), calendar)
        if (
            occurrence.kind == ReminderKind.BEFORE_DEADLINE
            and occurrence.working_days is not None
            and occurrence.working_days < 1
        ):
            await self.database.run(record_dropped, plan_code=plan_code, key=planned.key, now=now)
            log.info("reminder %s/%s dropped: its deadline has come", plan_code, occurrence_key)
            return 0
        queued = await self.database.run(
            fire_occurrence,
            plan_code=plan_code,
            occurrence=occurrence,
            coordinators=self.coordinators,
            digest=self.digest,
            now=now,
        )
        if queued is None:
            log.info("reminder %s/%s has run already", plan_code, occurrence_key)
            return 0
        log.info("reminder %s/%s queued %d message(s)", plan_code, occurrence_key, queued)
        self.sender.wake()
        return queued


def record_dropped(session: Session, *, plan_code: str, key: str, now: datetime) -> None:
    """An occurrence dropped as obsolete is dealt with: it is not planned again."""
    fenced(session)
    plan = plans.plan_by_code(session, plan_code)
    if plan is not None and plan.id is not None:
        reminder_runs.claim_run(
            session, plan_id=plan.id, occurrence_key=key, state=RunState.DROPPED, now=now
        )


def runs_by_plan(session: Session, *, codes: Iterable[str]) -> dict[str, set[str]]:
    """The occurrence keys that have run (or were dropped), by plan code."""
    found: dict[str, set[str]] = {}
    for code in codes:
        plan = plans.plan_by_code(session, code)
        found[code] = (
            reminder_runs.runs_of(session, plan_id=plan.id)
            if plan is not None and plan.id is not None
            else set()
        )
    return found


_running: ReminderScheduler | None = None


def fire_reminder(plan_code: str, occurrence_key: str) -> None:
    """The APScheduler job (runs in APScheduler's thread): importable, plain-string arguments.

    It applies the catch-up rule first: a job that runs late (the machine slept, the executor
    was busy) outside office hours is moved, not sent.
    """
    reminders = _running
    runtime = reminders.runtime if reminders is not None else None
    if reminders is None or runtime is None or runtime.loop is None or runtime.loop.is_closed():
        log.error("no running service; reminder %s/%s skipped", plan_code, occurrence_key)
        return
    schedule = runtime.plans.get(plan_code)
    occurrence = schedule.occurrences.get(occurrence_key) if schedule else None
    if schedule is None or occurrence is None:
        log.warning("reminder %s is no longer in plan %s", occurrence_key, plan_code)
        return
    now = runtime.clock()
    decision = schedule.catch_up(occurrence, now)
    if decision.at is None or decision.at > now:
        # Dropped, or moved: a new job under the same id. APScheduler removes the job being run
        # while holding its job-store lock, which add_job waits for, so the new one stays.
        try:
            reminders.apply(schedule, occurrence, decision)
        except Exception:
            # The database is down. A move is kept by a timer of this process; a drop is only
            # not recorded yet (without its run record the next start drops it again).
            if decision.at is not None:
                reminders.retry_later(schedule, occurrence, decision.at)
            else:
                log.warning("reminder %s/%s: could not record its drop", plan_code, occurrence_key)
        return
    future = None
    try:
        future = asyncio.run_coroutine_threadsafe(
            runtime.fire(plan_code, occurrence_key), runtime.loop
        )
        future.result(timeout=FIRE_TIMEOUT_SECONDS)
    except Exception:
        if future is not None:
            future.cancel()
        reminders.retry_later(schedule, occurrence, now + FIRE_RETRY)


def job_id(plan_code: str, occurrence_key: str) -> str:
    return f"{plan_code}/{occurrence_key}"


class ReminderScheduler:
    """Keeps the persistent jobs in step with the reminder calendars of the followed plans."""

    def __init__(self, runtime: ReminderRuntime) -> None:
        self.runtime = runtime
        self.job_store = SQLAlchemyJobStore(engine=runtime.database.engine, tablename=JOB_TABLE)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": self.job_store},
            executors={
                "default": ThreadPoolExecutor(max_workers=2),
                # the periodic jobs: a long one never holds a reminder's firing back
                PERIODIC_EXECUTOR: ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={
                # None: however late, APScheduler runs the job, and fire_reminder applies the
                # catch-up rule (APScheduler's own grace would send at night or drop silently).
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone="UTC",
        )
        # Retries kept by this process while the job store cannot be written: job id → the
        # timer and when it fires.
        self._retries: dict[str, tuple[threading.Timer, datetime]] = {}
        self._retries_lock = threading.Lock()

    def _create_job_table(self) -> None:
        """APScheduler's store creates its table at start by a read then a write, which on
        SQLite fails at once ("database is locked") when another connection wrote in between
        (a snapshot cannot be upgraded); created here first, under the write lock."""
        with self.runtime.database.session(writing=True) as session:
            self.job_store.jobs_t.create(session.connection(), checkfirst=True)

    async def start(self, *, paused: bool = False) -> None:
        """Register the runtime with the running loop, then start APScheduler and sync jobs.

        ``paused`` leaves APScheduler paused after the sync: jobs are planned but do not run
        (for tests and dry runs).
        """
        global _running
        self.runtime.loop = asyncio.get_running_loop()
        _running = self
        await asyncio.to_thread(self._start, paused)

    def _start(self, paused: bool) -> None:
        self._create_job_table()
        self.scheduler.start(paused=True)
        self.sync(self.runtime.clock())
        # The sync again every quarter hour, in a store of this process: a job the shared store
        # lost meanwhile (taken by an instance that lost leadership as it fired, then gone with
        # it) is planned again.
        self.scheduler.add_jobstore(MemoryJobStore(), LOCAL_STORE)
        self.scheduler.add_job(
            self._resync,
            IntervalTrigger(seconds=RESYNC_EVERY.total_seconds()),
            id="resync",
            jobstore=LOCAL_STORE,
            misfire_grace_time=int(RESYNC_EVERY.total_seconds()),
        )
        for job in self.runtime.periodic:
            self.scheduler.add_job(
                self._run_periodic,
                IntervalTrigger(seconds=job.every.total_seconds()),
                args=[job],
                id=job.name,
                jobstore=LOCAL_STORE,
                executor=PERIODIC_EXECUTOR,
                misfire_grace_time=int(job.every.total_seconds()),
                next_run_time=datetime.now(UTC) + FIRST_PERIODIC_RUN,
            )
        if not paused:
            self.scheduler.resume()

    def _run_periodic(self, job: PeriodicJob) -> None:
        loop = self.runtime.loop
        try:
            if loop is not None and not loop.is_closed():
                job.run(loop)
        except Exception:  # the next run tries again
            log.exception("periodic job %s failed", job.name)

    def _resync(self) -> None:
        try:
            self.sync(self.runtime.clock())
        except Exception as exc:  # the next one tries again
            log.warning("reminder jobs not checked against the plans: %s", exc)

    def sync(self, now: datetime) -> list[ReminderOccurrence]:
        """Plan what is still to run, as of ``now``; returns the occurrences that have a job.

        Every occurrence without a run record gets (or keeps) a job at the time the catch-up
        rule gives — its own time when upcoming — or is dropped; jobs of plans no longer
        followed, and of occurrences a plan no longer has, are removed. A drop of an occurrence
        that had a job (the service was down when it came due) is logged with its reason; those
        never planned (due before the plan was followed) are only counted.
        """
        done = self.runtime.database.run_sync(runs_by_plan, codes=self.runtime.plans)
        stored = {job.id for job in self.scheduler.get_jobs(jobstore="default")}
        kept: list[ReminderOccurrence] = []
        wanted: set[str] = set()
        for code, schedule in self.runtime.plans.items():
            dropped = 0
            for occurrence in sorted(schedule.occurrences.values()):
                if occurrence.key in done[code]:
                    continue
                decision = schedule.catch_up(occurrence, now)
                dropped += decision.action == CatchUpAction.DROPPED
                quiet = job_id(code, occurrence.key) not in stored
                if self.apply(schedule, occurrence, decision, quiet=quiet):
                    kept.append(occurrence)
                    wanted.add(job_id(code, occurrence.key))
            if dropped:
                log.info("plan %s: %d past reminder(s) dropped as obsolete", code, dropped)
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:
                job.remove()
        return kept

    def apply(
        self,
        schedule: PlanSchedule,
        occurrence: ReminderOccurrence,
        decision: CatchUp,
        *,
        quiet: bool = False,
    ) -> bool:
        """Carry out a catch-up decision: (re)plan the job, or drop it; True when planned.
        ``quiet``: a drop is not logged one by one (the start-up sync counts them)."""
        code = schedule.code
        loud = (CatchUpAction.LATE, CatchUpAction.MOVED) + (
            () if quiet else (CatchUpAction.DROPPED,)
        )
        if decision.action in loud:
            _log_catch_up(code, occurrence, decision, schedule)
        if decision.at is None:
            job = self.scheduler.get_job(job_id(code, occurrence.key))
            if job is not None:
                job.remove()
            self.runtime.database.run_sync(
                record_dropped, plan_code=code, key=occurrence.key, now=self.runtime.clock()
            )
            return False
        self.schedule(code, occurrence, decision.at)
        return True

    def schedule(self, plan_code: str, occurrence: ReminderOccurrence, at: datetime) -> None:
        """The occurrence's one job, to run at ``at`` (replacing any it had)."""
        self.scheduler.add_job(
            fire_reminder,
            trigger=DateTrigger(run_date=at),
            id=job_id(plan_code, occurrence.key),
            name=occurrence.key,
            args=[plan_code, occurrence.key],
            replace_existing=True,
        )

    def retry_later(
        self, schedule: PlanSchedule, occurrence: ReminderOccurrence, at: datetime
    ) -> None:
        """A firing failed: try again at ``at`` — through the job store, or, when the database
        itself is down, with a timer of this process (a restart's sync catches up otherwise)."""
        log.warning("reminder %s/%s failed; trying again at %s", schedule.code, occurrence.key, at)
        try:
            self.schedule(schedule.code, occurrence, at)
        except Exception:
            self._retry_by_timer(schedule.code, occurrence.key, at)

    def _retry_by_timer(self, plan_code: str, occurrence_key: str, at: datetime) -> None:
        """One timer per occurrence (a newer retry replaces it), forgotten once it fires."""
        key = job_id(plan_code, occurrence_key)
        delay = max((at - self.runtime.clock()).total_seconds(), 1.0)

        def fire_again() -> None:
            with self._retries_lock:
                current = self._retries.get(key)
                if current is not None and current[0] is timer:
                    del self._retries[key]
            fire_reminder(plan_code, occurrence_key)

        timer = threading.Timer(delay, fire_again)
        timer.daemon = True
        with self._retries_lock:
            earlier = self._retries.pop(key, None)
            self._retries[key] = (timer, at)
        if earlier is not None:
            earlier[0].cancel()
        timer.start()

    def pending_retries(self) -> dict[str, datetime]:
        """Job id → when this process tries it again (the job store could not be written)."""
        with self._retries_lock:
            return {key: at for key, (_, at) in self._retries.items()}

    def _shutdown(self) -> None:
        with self._retries_lock:
            for timer, _ in self._retries.values():
                timer.cancel()
            self._retries.clear()
        # Detach the job store first: on shutdown APScheduler's loop wakes once more with its
        # executors already stopped, fails to submit every job due by then and deletes it from
        # the store (a paused scheduler too). Detached, the store keeps them for the next start,
        # and the engine, which the rest of the service shares, is not disposed.
        self.scheduler.remove_jobstore("default", shutdown=False)
        # wait=False: a job in flight waits on this loop, so waiting here would deadlock.
        self.scheduler.shutdown(wait=False)

    def pending_job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs(jobstore="default"))

    def pending_jobs(self) -> dict[str, datetime | None]:
        """Job id → when it runs next."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs(jobstore="default")}

    async def shutdown(self) -> None:
        global _running
        if self.scheduler.running:
            await asyncio.to_thread(self._shutdown)
        if _running is self:
            _running = None


def _log_catch_up(
    code: str, occurrence: ReminderOccurrence, decision: CatchUp, schedule: PlanSchedule
) -> None:
    zone = schedule.spec.zone
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


def plan_schedules(
    specs: Iterable[PlanSpec],
    calendar_for: Callable[[PlanSpec], WorkingCalendar],
    calendar: Callable[[PlanSpec, WorkingCalendar], list[ReminderOccurrence]],
    overrides: Mapping[str, Sequence[ReminderOccurrence]] | None = None,
) -> dict[str, PlanSchedule]:
    """A schedule per plan (``overrides`` replaces a plan's occurrences, for tests)."""
    schedules = {}
    for spec in specs:
        working = calendar_for(spec)
        occurrences = (overrides or {}).get(spec.code)
        planned = list(occurrences) if occurrences is not None else calendar(spec, working)
        schedules[spec.code] = PlanSchedule(spec, working, {o.key: o for o in planned})
    return schedules
