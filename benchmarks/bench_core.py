"""Speed targets of what grows with the number of organisations and reports: the reminder
calendar, and the coordinator's and focal point's commands at a province's size (200
organisations) and at a large one (10,000 organisations × 100 status updates = 1M).

Run with ``make bench`` (not part of ``make test``: timings depend on the machine), or
``python -m benchmarks.bench_core --sizes 200`` for a quick look, ``--database-url
postgresql://…`` for PostgreSQL (a schema of its own, dropped afterwards). Commands go through
the real dialog core, as a chat message does, so each figure is what a user waits for. Each is
run a few times and the best is printed beside its target, as a ratio target/measured (≥ 1 is
met). The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

from benchmarks.scale import COORDINATOR_USER, NOW, Scale, scale_arguments, seeded
from bot.app import dialog_routers
from bot.channels.telegram import telegram_profile
from bot.dialog.core import DialogCore
from bot.dialog.events import (
    DocumentReply,
    IncomingEvent,
    TextReply,
    documents_to_make,
    make_documents,
)
from bot.dialog.types import DialogSettings
from bot.export_history import fill_history_cache
from scheduler.calendar import WorkingCalendar
from scheduler.policy import SeriesIndex, plan_catch_up, reminder_calendar
from storage.database import Database
from storage.plan_file import parse_plan, read_plan_file

PLANS = Path(__file__).resolve().parents[1] / "plans"
SEED_PLAN = PLANS / "thai-binh-2021-40-kh-ubnd.yaml"
EXAMPLE = PLANS / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
COMMAND_TARGET = 0.200
CHARTS_TARGET = (
    1.0  # /tonghop's text and its pictures (rate chart, indicators; heat map ≤ 60 units)
)
EXPORT_TARGET = 2.0
EXPORT_MEMORY_TARGET = 300.0  # MB of resident memory an export may add


@dataclass(frozen=True)
class Figure:
    """One measurement beside its target; ``unit`` "s" (shown in ms) or "MB"."""

    name: str
    measured: float
    target: float
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.target / self.measured if self.measured > 0 else float("inf")

    @property
    def met(self) -> bool:
        return self.measured <= self.target

    def shown(self, value: float) -> str:
        if math.isinf(value):
            return "(none)"
        return f"{value * 1000:.1f} ms" if self.unit == "s" else f"{value:.0f} {self.unit}"


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def print_table(figures: list[Figure], title: str) -> int:
    """The figures as a table (with the machine's load: it is shared); returns how many targets
    were missed."""
    width = max(len(f.name) for f in figures)
    print(f"\n{title}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':4} {'figure'.ljust(width)}  {'measured':>11}  {'target':>10}  {'ratio':>7}")
    for f in figures:
        verdict = "info" if math.isinf(f.target) else "ok  " if f.met else "SLOW"
        print(
            f"{verdict} {f.name.ljust(width)}  {f.shown(f.measured):>11}  "
            f"{f.shown(f.target):>10}  {f.ratio:7.2f}"
        )
    return sum(1 for f in figures if not f.met)


# --- the reminder calendar ---------------------------------------------------------------------

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


def calendar_figures() -> list[Figure]:
    """The seed plan's calendar; the example 2026–2030 plan with monthly and quarterly reports
    added, and the catch-up decision for every occurrence at once (what a restart does)."""
    seed_spec = read_plan_file(SEED_PLAN)
    seed_calendar = WorkingCalendar(seed_spec.zone)
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
        Figure(
            "reminder calendar of the seed plan",
            best_of(5, lambda: reminder_calendar(seed_spec, seed_calendar)),
            0.2,
        ),
        Figure(
            f"reminder calendar of a 5-year plan ({len(occurrences)} reminders)",
            best_of(3, lambda: reminder_calendar(spec, calendar)),
            0.5,
        ),
        Figure(
            f"catch-up decisions for its {len(occurrences)} reminders", best_of(3, restart), 0.5
        ),
    ]


# --- the commands ------------------------------------------------------------------------------


def dialog_core() -> DialogCore:
    return DialogCore(
        DialogSettings(
            coordinators=frozenset({("telegram", COORDINATOR_USER)}),
            coordinator_addresses=(),
            clock=lambda: NOW,
            channels={"telegram": telegram_profile(lambda: "nhacviec_bot")},
        ),
        dialog_routers(),
    )


def command(
    database: Database, core: DialogCore, user: str, text: str, *, wants: type = TextReply
) -> Callable[[], object]:
    """A chat message through the core; it must be answered with a ``wants`` reply."""
    event = IncomingEvent.from_text(channel="telegram", user_id=user, chat_id=user, text=text)

    def send() -> object:
        result = database.run_sync(core.handle, event)
        if documents_to_make(result):  # as the service does, once the turn has committed
            result = database.run_sync(make_documents, result)
        kinds = [type(reply) for reply in result.replies]
        assert wants in kinds, (text, result.replies[:1])
        return result

    return send


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextmanager
def peak_rss_growth() -> Iterator[list[float]]:
    """Samples resident memory every 5 ms while the block runs; yields [growth in MB]."""
    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    growth = [0.0]
    try:
        yield growth
    finally:
        done.set()
        sampler.join()
        growth[0] = max(peak[0], rss_mb()) - before


@contextmanager
def charts_left_out() -> Iterator[None]:
    """/tonghop without its pictures: the time of its text answer alone."""
    with patch("bot.dialog.overview.overview_charts", return_value=[]):
        yield


def command_figures(
    database: Database, scale: Scale, runs: int, label: str, *, with_export: bool = True
) -> list[Figure]:
    core = dialog_core()
    coordinator, focal = COORDINATOR_USER, scale.sample_focal_user
    overview = command(database, core, coordinator, "/tonghop")
    with charts_left_out():
        text_only = best_of(runs, overview)
    figures = [
        Figure(f"/tonghop text answer, {label}", text_only, COMMAND_TARGET),
        Figure(f"/tonghop with its charts, {label}", best_of(runs, overview), CHARTS_TARGET),
    ]
    cases = [
        ("/quahan (every unit overdue for 2 periods)", coordinator, "/quahan"),
        ("/donvi", coordinator, f"/donvi {scale.sample_unit}"),
        ("/tinhhinh", focal, "/tinhhinh"),
    ]
    figures += [
        Figure(f"{name}, {label}", best_of(runs, command(database, core, user, text)), target)
        for name, user, text, target in [(*case, COMMAND_TARGET) for case in cases]
    ]
    if not with_export:
        return figures
    export = command(database, core, coordinator, "/xuat", wants=DocumentReply)
    # The cache of the history's chunks empty, as on the day of the upgrade: all rendered.
    cold = best_of(max(runs - 1, 1), export)
    # Then as months of reporting leave it: filled by the service's job (the same function).
    start = time.perf_counter()
    appended = fill_history_cache(database, now=NOW)
    print(f"history cache: {appended} chunks in {time.perf_counter() - start:.1f} s", flush=True)
    with peak_rss_growth() as growth:
        seconds = best_of(max(runs - 1, 1), export)
    figures.append(Figure(f"/xuat, {label}", seconds, EXPORT_TARGET))
    figures.append(Figure(f"/xuat, history cache empty (no target), {label}", cold, math.inf))
    figures.append(
        Figure(f"/xuat memory growth (peak RSS), {label}", growth[0], EXPORT_MEMORY_TARGET, "MB")
    )
    return figures


def scale_figures(
    url: str | None, organisations: int, updates: int, runs: int, *, with_export: bool = True
) -> list[Figure]:
    with seeded(url, organisations, updates) as (database, scale, label):
        return command_figures(database, scale, runs, label, with_export=with_export)


def main() -> int:
    parser = scale_arguments((__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--no-export", action="store_true", help="leave out /xuat (the commands' figures only)"
    )
    args = parser.parse_args()
    figures = calendar_figures()
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        figures += scale_figures(
            args.database_url, size, args.updates, args.runs, with_export=not args.no_export
        )
    missed = print_table(figures, "Speed targets (ratio = target / measured; ≥ 1 is met)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
