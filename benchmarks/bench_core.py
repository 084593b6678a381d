"""Speed targets of the parts that grow with the number of agencies and reports.

Run with ``make bench`` (not part of ``make test``: timings depend on the machine). Each case is
run a few times and the best time is compared with its target; the exit status is 1 when a
target is missed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import dialog_routers
from bot.channels.telegram import telegram_profile
from bot.dialog.core import DialogCore
from bot.dialog.events import IncomingEvent
from bot.dialog.types import DialogSettings
from scheduler.calendar import WorkingCalendar
from scheduler.outbox import outbox_message
from scheduler.policy import SeriesIndex, plan_catch_up, reminder_calendar
from storage import migrate, outbox, plans, read_models
from storage.database import Database
from storage.models import FocalPoint, ReportStatus, StatusUpdate
from storage.plan_file import parse_plan, read_plan_file
from storage.plan_loader import load_plan

PLAN = Path(__file__).resolve().parents[1] / "plans" / "thai-binh-2021-40-kh-ubnd.yaml"
EXAMPLE = PLAN.parent / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
NOW = datetime(2021, 6, 20, 3, 0, tzinfo=UTC)
EXTRA_AGENCIES = 300
UPDATES_PER_AGENCY = 10


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


MONTHLY_REPORTS = """
  - code: thang
    title: Báo cáo {label}
    every: month
    due: {day: 5, month: next}
  - code: quy-cuoi
    title: Báo cáo tình hình {label}
    every: quarter
    due: {day: 15, month: last}
    rule: by
"""


def _multi_year_plan() -> list[tuple[str, float, float]]:
    """The example 2026–2030 plan with monthly and quarterly reports added: its calendar, and
    the catch-up decision for every occurrence at once (what a restart does)."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "reports:\n", "reports:" + MONTHLY_REPORTS, 1
    )
    spec = parse_plan(text, str(EXAMPLE))
    calendar = WorkingCalendar(spec.zone)
    occurrences = reminder_calendar(spec, calendar)
    now = datetime(2031, 2, 1, 3, 0, tzinfo=UTC)

    def restart() -> None:
        index = SeriesIndex(occurrences)
        for occurrence in occurrences:
            plan_catch_up(occurrence, now, calendar, plan=index)

    return [
        (
            f"reminder calendar of a 5-year plan ({len(occurrences)} reminders)",
            best_of(3, lambda: reminder_calendar(spec, calendar)),
            0.5,
        ),
        (
            f"catch-up decisions for all {len(occurrences)} reminders of it",
            best_of(3, restart),
            0.5,
        ),
    ]


def main() -> int:
    spec = read_plan_file(PLAN)
    calendar = WorkingCalendar(spec.zone)
    results: list[tuple[str, float, float]] = []

    results.append(
        (
            "reminder calendar of the seed plan",
            best_of(5, lambda: reminder_calendar(spec, calendar)),
            0.2,
        )
    )

    results += _multi_year_plan()

    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/bench.db")
        migrate.upgrade(database)
        plan = database.run_sync(load_plan, spec, source_file=str(PLAN), now=NOW)
        assert plan.id is not None
        plan_id = plan.id

        def populate(session: object) -> None:
            from sqlmodel import Session

            assert isinstance(session, Session)
            deadlines = plans.deadlines(session, plan_id=plan_id)
            for number in range(EXTRA_AGENCIES):
                agency = plans.add_agency_to_open_section(
                    session,
                    plan_id=plan_id,
                    section="IV.14",
                    kind="department",
                    name=f"Đơn vị thử nghiệm số {number}",
                    short_name=f"ĐV {number}",
                )
                assert agency.id is not None
                person = FocalPoint(
                    agency_id=agency.id,
                    full_name="Nguyễn Văn A",
                    position="Chuyên viên",
                    phone="0912345678",
                    registered_at=NOW,
                )
                session.add(person)
                for index in range(UPDATES_PER_AGENCY):
                    deadline = deadlines[index % len(deadlines)]
                    assert deadline.id is not None
                    session.add(
                        StatusUpdate(
                            agency_id=agency.id,
                            deadline_id=deadline.id,
                            channel="telegram",
                            status=ReportStatus.IN_PROGRESS,
                            progress=10 * index,
                            note="Ghi chú " * 10,
                            created_at=NOW - timedelta(days=index),
                        )
                    )

        database.run_sync(populate)
        agencies = EXTRA_AGENCIES + 21
        results.append(
            (
                f"overview of {agencies} agencies × 2 deadlines",
                best_of(3, lambda: database.run_sync(read_models.overview, plan=plan, now=NOW)),
                0.5,
            )
        )

        core = DialogCore(
            DialogSettings(
                plan_code=spec.code,
                coordinators=frozenset({("telegram", "1")}),
                coordinator_addresses=(),
                clock=lambda: NOW,
                channels={"telegram": telegram_profile(lambda: "nhacviec_bot")},
            ),
            dialog_routers(),
        )

        def command(text: str) -> Callable[[], object]:
            event = IncomingEvent.from_text(channel="telegram", user_id="1", chat_id="1", text=text)
            return lambda: database.run_sync(core.handle, event)

        results.append((f"/tonghop with {agencies} agencies", best_of(3, command("/tonghop")), 1.0))
        results.append((f"/xuat with {agencies} agencies", best_of(2, command("/xuat")), 5.0))

        counter = iter(range(10**9))

        def enqueue() -> None:
            batch = next(counter)
            messages = [
                outbox_message(
                    key=f"bench/{batch}/{n}",
                    channel="telegram",
                    chat_id=str(n),
                    rule="bench",
                    text="Nhắc việc",
                    now=NOW,
                )
                for n in range(1000)
            ]
            database.run_sync(outbox.enqueue_outbox, messages)

        results.append(("queue 1000 outbox messages", best_of(3, enqueue), 2.0))
        database.dispose()

    missed = 0
    for name, seconds, target in results:
        ok = seconds <= target
        missed += not ok
        verdict = "ok  " if ok else "SLOW"
        print(f"{verdict} {seconds * 1000:8.1f} ms  (target {target * 1000:.0f} ms)  {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
