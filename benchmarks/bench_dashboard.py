"""Speed target of the dashboard: the overview page's server time at 10,000 agencies and
1,000,000 status updates, target under 300 ms.

Run with ``make bench`` (or ``python benchmarks/bench_dashboard.py --agencies 2000 --updates
200000`` for a quicker look; ``--database-url postgresql://…`` for PostgreSQL). The seed plan is
loaded, agencies and status updates are written in bulk, then the overview page is asked for
over HTTP from the real server (a signed-in coordinator, the default filters: 100 rows of the
first page) and the best of a few runs is printed beside the target, as a ratio. The exit
status is 1 when the target is missed.

The page reads the whole plan's state on every request, so its time follows the read model:
on today's storage (every status update read as an ORM object) it is far over the target; a
latest-report summary table (one row per unit and period) is what brings it under.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import col

from storage import migrate
from storage.database import Database
from storage.models import Agency, Deadline, FocalPoint, ReportStatus, StatusUpdate
from storage.plan_file import read_plan_file
from storage.plan_loader import load_plan
from web.auth import Authenticator, signing_key
from web.dashboard import COOKIE, Dashboard
from web.server import Listen, build_web_app, start_web
from web.storage_data import DatabaseUsedLogins, StorageDashboardData

PLAN = Path(__file__).resolve().parents[1] / "plans" / "thai-binh-2021-40-kh-ubnd.yaml"
NOW = datetime(2021, 12, 20, 3, 0, tzinfo=UTC)
TARGET = 0.300
CHUNK = 20_000
KINDS = ("department", "district", "commune", "mass-organization")
STATUSES = tuple(ReportStatus)
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def seed(database: Database, *, agencies: int, updates: int) -> None:
    """The seed plan, then ``agencies`` units in all and ``updates`` status updates, in bulk."""
    spec = read_plan_file(PLAN)
    plan = database.run_sync(load_plan, spec, source_file=str(PLAN), now=NOW)
    assert plan.id is not None
    with database.engine.begin() as connection:
        existing = connection.execute(sa.select(sa.func.count()).select_from(Agency)).scalar_one()
        connection.execute(
            sa.insert(Agency),
            [
                {
                    "plan_id": plan.id,
                    "code": f"DV{number:05d}",
                    "name": f"Đơn vị thử nghiệm số {number}",
                    "short_name": f"ĐV {number}",
                    "section": "IV.14",
                    "kind": KINDS[number % len(KINDS)],
                    "position": 100 + number,
                    "is_coordinator": False,
                    "added_by_coordinator": True,
                    "active": True,
                }
                for number in range(max(agencies - existing, 0))
            ],
        )
        ids = list(
            connection.execute(
                sa.select(col(Agency.id)).where(col(Agency.plan_id) == plan.id)
            ).scalars()
        )
        deadlines = list(connection.execute(sa.select(col(Deadline.id))).scalars())
        connection.execute(
            sa.insert(FocalPoint),
            [
                {
                    "agency_id": i,
                    "full_name": "Nguyễn Văn A",
                    "position": "Chuyên viên",
                    "phone": "0912345678",
                    "registered_at": NOW,
                    "active": True,
                }
                for i in ids
            ],
        )
        rows = _updates(ids, deadlines, updates)
        while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
            connection.execute(sa.insert(StatusUpdate), chunk)


def _updates(
    agency_ids: list[int | None], deadline_ids: list[int | None], count: int
) -> Iterator[dict[str, object]]:
    for number in range(count):
        yield {
            "agency_id": agency_ids[number % len(agency_ids)],
            "deadline_id": deadline_ids[(number // len(agency_ids)) % len(deadline_ids)],
            "channel": "telegram",
            "status": STATUSES[number % len(STATUSES)],
            "progress": number % 101,
            "note": "Đã triển khai theo kế hoạch.",
            "created_at": NOW - timedelta(days=200) + timedelta(seconds=number * 10),
        }


async def time_overview(database: Database, runs: int) -> list[float]:
    auth = Authenticator(
        key=signing_key([TOKEN]),
        coordinators=frozenset({("console", "dieu-phoi")}),
        used=DatabaseUsedLogins(database),
        public_url="https://bdk.example.vn",
        clock=lambda: NOW,
    )
    dashboard = Dashboard(
        data=StorageDashboardData(database), auth=auth, files={}, clock=lambda: NOW
    )
    server = await start_web(build_web_app(dashboard=dashboard), [Listen("127.0.0.1", 0, "-")])
    host, port = server.addresses[0]
    token = auth.login_link("console", "dieu-phoi").split("t=")[1]
    cookie = (await asyncio.to_thread(auth.login_by_link, token)).cookie
    times = []
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=600) as client:
            client.cookies.set(COOKIE, cookie)
            for _ in range(runs):
                start = time.perf_counter()
                response = await client.get("/")
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text[:300]
    finally:
        await server.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.database_url or f"sqlite:///{folder}/bench.db")
        migrate.upgrade(database)
        started = time.perf_counter()
        seed(database, agencies=args.agencies, updates=args.updates)
        print(
            f"seeded {args.agencies} agencies, {args.updates} status updates "
            f"in {time.perf_counter() - started:.0f} s"
        )
        best = min(asyncio.run(time_overview(database, args.runs)))
        database.dispose()
    verdict = "ok  " if best <= TARGET else "SLOW"
    print(
        f"{verdict} {best * 1000:8.1f} ms  (target {TARGET * 1000:.0f} ms, "
        f"{best / TARGET:.1f}× the target)  dashboard overview page, {args.agencies} agencies, "
        f"{args.updates} status updates"
    )
    return 0 if best <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
