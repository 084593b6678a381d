"""Speed targets of the web dashboard: the overview page and an agency's page, server time
under 300 ms at 10,000 organisations and 1,000,000 status updates (and at a province's 200).

Run with ``make bench`` (or ``python -m benchmarks.bench_dashboard --sizes 200`` for a quick
look; ``--database-url postgresql://…`` for PostgreSQL, in a schema of its own). The plan of
:mod:`benchmarks.scale` is seeded in bulk, then each page is asked for over HTTP from the real
server by a signed-in coordinator (the overview with its default filters) and the best of a few
runs is printed beside the target, as a ratio target/measured (≥ 1 is met). The exit status is
1 when a target is missed.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from benchmarks.bench_core import Figure, print_table
from benchmarks.scale import NOW, Scale, scale_arguments, seeded
from storage.database import Database
from web.auth import Authenticator, signing_key
from web.dashboard import COOKIE, Dashboard
from web.server import Listen, build_web_app, start_web
from web.storage_data import DatabaseUsedLogins, StorageDashboardData

TARGET = 0.300
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


async def time_pages(database: Database, scale: Scale, runs: int) -> dict[str, float]:
    """The best server time of each page, asked for ``runs`` times."""
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
    plan = f"ke_hoach={scale.plan_code}"
    pages = {"overview page": f"/?{plan}", "agency page": f"/don-vi?{plan}&ma={scale.sample_unit}"}
    best: dict[str, float] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=600) as client:
            client.cookies.set(COOKIE, cookie)
            for name, path in pages.items():
                for _ in range(runs):
                    start = time.perf_counter()
                    response = await client.get(path)
                    took = time.perf_counter() - start
                    assert response.status_code == 200, response.text[:300]
                    best[name] = min(best.get(name, took), took)
    finally:
        await server.stop()
    return best


def scale_figures(url: str | None, organisations: int, updates: int, runs: int) -> list[Figure]:
    with seeded(url, organisations, updates) as (database, scale, label):
        best = asyncio.run(time_pages(database, scale, runs))
    return [Figure(f"dashboard {name}, {label}", took, TARGET) for name, took in best.items()]


def main() -> int:
    parser = scale_arguments((__doc__ or "").splitlines()[0])
    args = parser.parse_args()
    figures: list[Figure] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        figures += scale_figures(args.database_url, size, args.updates, args.runs)
    missed = print_table(figures, "Dashboard speed targets (ratio = target / measured; ≥ 1 is met)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
