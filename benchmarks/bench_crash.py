"""The kill test of issue 9: ``nhacviec run`` is SIGKILLed at random moments while a reminder
goes out to 500 focal points — 20 times, each time started again — then one last run finishes.
Every recipient must have received the reminder at least once: "lost" must be 0; "duplicated"
counts the messages that went twice (at most the one in flight at each kill).

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set. The service's clock is set
with libfaketime (Debian package ``faketime``). ``make bench`` runs it:
``python -m benchmarks.bench_crash [--kills N] [--recipients N]``. Exit status 1 when anything
was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.instances import crash_fan_out, faketime_library

SEED = 903


async def crash_runs(kills: int, recipients: int) -> int:
    backends = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
    status = 0
    print(f"kill test: {recipients} recipients, {kills} kills, then a last run")
    for backend in backends:
        with tempfile.TemporaryDirectory() as directory:
            run = await crash_fan_out(
                backend, Path(directory), recipients=recipients, kills=kills, seed=SEED
            )
        tally = run.tally
        print(
            f"  {backend:<10} runs {run.runs:>3}  recipients {tally.recipients}  "
            f"lost {tally.lost}  duplicated {tally.duplicated}  ({run.seconds:.0f} s)"
        )
        if tally.lost or run.final_status != 0:
            status = 1
    if not TEST_DATABASE_URL:
        print("  postgresql: skipped (TEST_DATABASE_URL is not set)")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--recipients", type=int, default=500)
    args = parser.parse_args()
    # A request cut short by the kill makes the fake Bot API's server log a traceback: expected.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    if faketime_library() is None:
        print("kill test skipped: libfaketime is not installed (Debian: faketime)")
        return 0
    return asyncio.run(crash_runs(args.kills, args.recipients))


if __name__ == "__main__":
    sys.exit(main())
