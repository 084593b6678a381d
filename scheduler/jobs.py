"""APScheduler wiring: one persistent job per reminder occurrence.

Jobs live in the same database (table ``apscheduler_jobs``), each with an explicit id and an
importable function, so a restart finds them again. A job only carries the plan code and the
occurrence key; recipients are resolved when it fires. A job missed by an outage of less than
``grace`` still runs when the service is back (APScheduler's default grace is one second).

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

from scheduler.outbox import OutboxSender
from scheduler.policy import ReminderOccurrence, due_or_upcoming
from scheduler.reminders import CoordinatorAddress, enqueue_occurrence
from storage.database import Database
from storage.plan_file import PlanSpec

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
DEFAULT_GRACE = timedelta(hours=12)
FIRE_TIMEOUT_SECONDS = 300.0


@dataclass
class ReminderRuntime:
    """What a firing job needs; registered by the composition root at start-up."""

    database: Database
    spec: PlanSpec
    coordinators: Sequence[CoordinatorAddress]
    sender: OutboxSender
    clock: Callable[[], datetime]
    occurrences: dict[str, ReminderOccurrence]
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    async def fire(self, occurrence_key: str) -> int:
        """Queue the messages of one occurrence and wake the sender; returns how many."""
        occurrence = self.occurrences.get(occurrence_key)
        if occurrence is None:
            log.warning("reminder %s is no longer in plan %s", occurrence_key, self.spec.code)
            return 0
        queued = await self.database.run(
            enqueue_occurrence,
            plan_code=self.spec.code,
            occurrence=occurrence,
            coordinators=self.coordinators,
            now=self.clock(),
        )
        log.info("reminder %s/%s queued %d message(s)", self.spec.code, occurrence_key, queued)
        self.sender.wake()
        return queued


_runtimes: dict[str, ReminderRuntime] = {}


def fire_reminder(plan_code: str, occurrence_key: str) -> None:
    """The APScheduler job (runs in APScheduler's thread): importable, plain-string arguments."""
    runtime = _runtimes.get(plan_code)
    if runtime is None or runtime.loop is None or runtime.loop.is_closed():
        log.error("no running service for plan %s; reminder %s skipped", plan_code, occurrence_key)
        return
    future = asyncio.run_coroutine_threadsafe(runtime.fire(occurrence_key), runtime.loop)
    future.result(timeout=FIRE_TIMEOUT_SECONDS)


def job_id(plan_code: str, occurrence_key: str) -> str:
    return f"{plan_code}/{occurrence_key}"


class ReminderScheduler:
    """Keeps the persistent jobs in step with the plan's reminder calendar."""

    def __init__(self, runtime: ReminderRuntime, *, grace: timedelta = DEFAULT_GRACE) -> None:
        self.runtime = runtime
        self.grace = grace
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=runtime.database.engine, tablename=JOB_TABLE)
            },
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={
                "misfire_grace_time": int(grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=runtime.spec.zone,
        )

    async def start(self) -> None:
        """Register the runtime with the running loop, then start APScheduler and sync jobs."""
        self.runtime.loop = asyncio.get_running_loop()
        _runtimes[self.runtime.spec.code] = self.runtime
        await asyncio.to_thread(self._start)

    def _start(self) -> None:
        self.scheduler.start(paused=True)
        self.sync(self.runtime.clock())
        self.scheduler.resume()

    def sync(self, now: datetime) -> list[ReminderOccurrence]:
        """Add the jobs still to run, drop the ones the plan no longer has; returns the kept."""
        wanted = due_or_upcoming(self.runtime.occurrences.values(), now=now, grace=self.grace)
        wanted_ids = {job_id(self.runtime.spec.code, o.key) for o in wanted}
        prefix = f"{self.runtime.spec.code}/"
        for job in self.scheduler.get_jobs():
            if job.id.startswith(prefix) and job.id not in wanted_ids:
                job.remove()
        for occurrence in wanted:
            self.scheduler.add_job(
                fire_reminder,
                trigger=DateTrigger(run_date=occurrence.fire_at),
                id=job_id(self.runtime.spec.code, occurrence.key),
                name=occurrence.key,
                args=[self.runtime.spec.code, occurrence.key],
                replace_existing=True,
            )
        return wanted

    def pending_job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())

    async def shutdown(self) -> None:
        if self.scheduler.running:
            # wait=False: a job in flight waits on this loop, so waiting here would deadlock.
            await asyncio.to_thread(self.scheduler.shutdown, wait=False)
        _runtimes.pop(self.runtime.spec.code, None)
