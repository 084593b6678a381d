"""The crash test of issue 9: SIGKILL ``nhacviec run`` at random moments while a reminder goes
out to hundreds of focal points, start it again each time, and count: every recipient gets the
reminder at least once across the restarts, and at most one message per kill goes twice (the
one in flight). ``benchmarks/bench_crash.py`` runs it with 500 recipients and 20 kills.

The service's wall clock is set with libfaketime (Debian package ``faketime``) to half an hour
after the reminder was due, every time it starts; monotonic time is left real."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.instances import crash_fan_out, faketime_library

pytestmark = [
    pytest.mark.skipif(
        faketime_library() is None, reason="libfaketime is not installed (Debian: faketime)"
    ),
    pytest.mark.timeout(300),
]


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set"),
            ],
        ),
    ],
)
async def test_killing_the_service_during_a_reminder_fan_out_loses_no_recipient(
    backend: str, tmp_path: Path
) -> None:
    run = await crash_fan_out(backend, tmp_path, recipients=150, kills=2, seed=20210603)
    assert run.final_status == 0 and "Traceback" not in run.final_output, run.final_output
    assert run.tally.lost == 0, run.tally
    assert run.tally.duplicated <= run.runs - 1, run.tally
