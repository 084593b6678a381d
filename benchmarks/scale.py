"""A province's plan at a chosen size, written in bulk: the benchmarks' test data.

The worked format-2 example plan (Hưng Yên 2026–2030: six-monthly, yearly and quarterly reports)
is loaded as the bot loads it, then organisations are added to its open department section
(about 20 departments in all) and its commune section ("UBND xã/phường") until the plan names
``organisations`` units, each with a focal point (a Telegram account, joined to the plan) and
``updates`` status updates spread over the periods it owes. The latest-report read model is
filled from the same rows, as :func:`storage.reports.record_status_update` would have left it.

Status updates and latest reports go in with the database's fastest bulk path (``COPY`` on
PostgreSQL, one prepared ``executemany`` on SQLite), so a million rows take seconds, not an hour.
The two most recent periods due before :data:`NOW` have no report at all: every unit that owes
them is overdue, the worst case of ``/quahan``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import col

from storage import migrate, plans
from storage.database import Database
from storage.models import (
    ChannelAccount,
    FocalPoint,
    LatestReport,
    MembershipState,
    Organisation,
    PlanMembership,
    PlanUnit,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
)
from storage.plan_file import PlanStatus, read_plan_file
from storage.plan_loader import load_plan

PLAN_FILE = (
    Path(__file__).resolve().parents[1] / "plans" / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"
)
NOW = datetime(2028, 6, 20, 3, 0, tzinfo=UTC)  # 10:00 on 20/06/2028 in Hưng Yên
DEPARTMENTS = 20
COORDINATOR_USER = "1"
FOCAL_USER_BASE = 500_000  # the focal point of the n-th unit has Telegram user id 500000 + n
UNREPORTED_PERIODS = 2  # the latest periods due: nobody has reported
CHUNK = 50_000
STATUSES = (ReportStatus.IN_PROGRESS, ReportStatus.DONE, ReportStatus.NOT_STARTED)
NOTE = "Đã triển khai các nội dung theo kế hoạch, đang tổng hợp số liệu báo cáo."


@dataclass(frozen=True)
class Scale:
    """What was seeded: the plan, how many units and updates, a unit to look at."""

    plan_code: str
    plan_id: int
    organisations: int
    updates: int
    sample_unit: str  # a commune's code, for /donvi and the agency page
    sample_focal_user: str  # the Telegram user id of its focal point, for /tinhhinh
    seconds: float


def scale_arguments(description: str) -> argparse.ArgumentParser:
    """The options of every benchmark on a seeded plan: sizes, updates, runs, database."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--sizes", default="200,10000", help="organisations, comma-separated (default 200,10000)"
    )
    parser.add_argument("--updates", type=int, default=100, help="status updates per organisation")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
        help="PostgreSQL (a schema of its own); default: a new SQLite file",
    )  # fmt: skip
    return parser


@contextmanager
def seeded(
    url: str | None, organisations: int, updates: int
) -> Iterator[tuple[Database, Scale, str]]:
    """A database (a new SQLite file, or a schema of its own on PostgreSQL) seeded at that size,
    with its label for the tables; dropped after."""
    backend = "PostgreSQL" if url else "SQLite"
    with tempfile.TemporaryDirectory() as folder:
        database, cleanup = open_database(url, Path(folder))
        try:
            scale = seed(database, organisations=organisations, updates=updates)
            label = f"{scale.organisations} orgs / {scale.updates:,} updates, {backend}"
            print(f"seeded {label} in {scale.seconds:.1f} s", flush=True)
            yield database, scale, label
        finally:
            cleanup()


def open_database(url: str | None, folder: Path) -> tuple[Database, Any]:
    """A migrated, empty database: a SQLite file in ``folder``, or a schema of its own in the
    PostgreSQL database ``url`` (dropped by the returned ``cleanup()``)."""
    if url is None:
        database = Database(f"sqlite:///{folder / 'bench.db'}")
        migrate.upgrade(database)
        return database, database.dispose
    schema = f"nhacviec_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(Database(url).url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    database = Database(url, schema=schema)
    migrate.upgrade(database)

    def cleanup() -> None:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return database, cleanup


def seed(database: Database, *, organisations: int, updates: int) -> Scale:
    """The example plan with ``organisations`` units and ``updates`` reports each."""
    import time

    started = time.perf_counter()
    spec = read_plan_file(PLAN_FILE).model_copy(update={"status": PlanStatus.ACTIVE})
    plan = database.run_sync(load_plan, spec, source_file=str(PLAN_FILE), now=NOW)
    assert plan.id is not None
    plan_id = plan.id
    with database.engine.begin() as connection:
        _add_units(connection, plan_id, organisations)
        units = _units(connection, plan_id)
        _add_people(connection, plan_id, units)
        periods = database.run_sync(lambda s: plans.periods(s, plan_id=plan_id))
        count = _add_reports(connection, plan_id, units, periods, updates)
    with database.engine.connect() as connection:
        # a live database has gathered statistics long before it holds a million rows; the
        # planner without them guesses (PostgreSQL's autovacuum would run ANALYZE in time)
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    sample = next(u for u in reversed(units) if u.kind == "commune")
    return Scale(
        plan_code=spec.code,
        plan_id=plan_id,
        organisations=len(units),
        updates=count,
        sample_unit=sample.code,
        sample_focal_user=str(FOCAL_USER_BASE + units.index(sample)),
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _Unit:
    organisation_id: int
    code: str
    section: str
    kind: str


def _units(connection: Connection, plan_id: int) -> list[_Unit]:
    rows = connection.execute(
        sa.select(
            col(PlanUnit.organisation_id), col(PlanUnit.code), col(PlanUnit.section),
            col(PlanUnit.kind),
        )
        .where(col(PlanUnit.plan_id) == plan_id, col(PlanUnit.is_coordinator).is_(False))
        .order_by(col(PlanUnit.position), col(PlanUnit.id))
    )  # fmt: skip
    return [_Unit(*row) for row in rows]


def _add_units(connection: Connection, plan_id: int, wanted: int) -> None:
    """Departments in the open section up to :data:`DEPARTMENTS`, then communes."""
    existing = _units(connection, plan_id)
    departments = sum(1 for u in existing if u.kind != "commune")
    commune_section = next(u.section for u in existing if u.kind == "commune")
    department_section = "IV.10"
    extra = max(wanted - len(existing), 0)
    new_departments = min(max(DEPARTMENTS - departments, 0), extra)
    position = 1000
    rows: list[tuple[str, str, str, str, str]] = []
    for number in range(extra):
        if number < new_departments:
            code, name = f"SO{number:03d}", f"Sở thử nghiệm số {number}"
            rows.append((code, name, f"Sở TN {number}", "department", department_section))
        else:
            code, name = f"XA{number:05d}", f"Ủy ban nhân dân xã Thử Nghiệm {number}"
            rows.append((code, name, f"UBND xã TN {number}", "commune", commune_section))
    if not rows:
        return
    connection.execute(
        sa.insert(Organisation),
        [{"code": c, "name": n, "short_name": s, "kind": k} for c, n, s, k, _ in rows],
    )
    ids: dict[str, int] = {
        code: id_
        for code, id_ in connection.execute(
            sa.select(col(Organisation.code), col(Organisation.id)).where(
                col(Organisation.code).in_([r[0] for r in rows])
            )
        )
        if id_ is not None
    }
    connection.execute(
        sa.insert(PlanUnit),
        [
            {
                "plan_id": plan_id,
                "organisation_id": ids[code],
                "code": code,
                "name": name,
                "short_name": short,
                "section": section,
                "kind": kind,
                "position": position + index,
                "is_coordinator": False,
                "added_by_coordinator": True,
                "active": True,
            }
            for index, (code, name, short, kind, section) in enumerate(rows)
        ],
    )


def _add_people(connection: Connection, plan_id: int, units: Sequence[_Unit]) -> None:
    """One focal point per unit, joined to the plan, with a Telegram account."""
    connection.execute(
        sa.insert(FocalPoint),
        [
            {
                "organisation_id": unit.organisation_id,
                "full_name": f"Nguyễn Thị Cán Bộ {index}",
                "position": "Chuyên viên",
                "phone": f"09{index:08d}",
                "registered_at": NOW - timedelta(days=700),
                "active": True,
            }
            for index, unit in enumerate(units)
        ],
    )
    by_organisation: dict[int, int] = {
        organisation_id: id_
        for organisation_id, id_ in connection.execute(
            sa.select(col(FocalPoint.organisation_id), col(FocalPoint.id))
        )
        if id_ is not None
    }
    focal_ids = [by_organisation[unit.organisation_id] for unit in units]
    connection.execute(
        sa.insert(PlanMembership),
        [
            {
                "focal_point_id": focal_id,
                "plan_id": plan_id,
                "state": MembershipState.JOINED,
                "decided_at": NOW - timedelta(days=700),
            }
            for focal_id in focal_ids
        ],
    )
    connection.execute(
        sa.insert(ChannelAccount),
        [
            {
                "focal_point_id": focal_id,
                "channel": "telegram",
                "user_id": str(FOCAL_USER_BASE + index),
                "chat_id": str(FOCAL_USER_BASE + index),
                "display_name": "",
                "created_at": NOW - timedelta(days=700),
            }
            for index, focal_id in enumerate(focal_ids)
        ],
    )


def _owed_past(
    periods: Sequence[ReportingPeriod], unit: _Unit, zone: ZoneInfo
) -> list[ReportingPeriod]:
    """The periods the unit owes that fell due before NOW, less the unreported latest ones."""
    fake = PlanUnit(
        plan_id=0, organisation_id=0, code=unit.code, name="", short_name="",
        section=unit.section, kind=unit.kind,
    )  # fmt: skip
    past = [p for p in periods if plans.due_at(p.due_before, zone) <= NOW]
    reported = past[: max(len(past) - UNREPORTED_PERIODS, 0)]
    return [p for p in reported if plans.owes(p, fake)]


def _add_reports(
    connection: Connection,
    plan_id: int,
    units: Sequence[_Unit],
    periods: Sequence[ReportingPeriod],
    per_unit: int,
) -> int:
    """``per_unit`` status updates of every unit, spread over the periods it owes, and the
    latest-report row of every (unit, period) they touch."""
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    owed_by_kind: dict[tuple[str, str, str], list[ReportingPeriod]] = {}
    latest: list[tuple[Any, ...]] = []
    next_id = [1]

    def updates() -> Iterator[tuple[Any, ...]]:
        for index, unit in enumerate(units):
            key = (unit.code if unit.kind != "commune" else "", unit.section, unit.kind)
            owed = owed_by_kind.get(key)
            if owed is None:
                owed = owed_by_kind[key] = _owed_past(periods, unit, zone)
            if not owed:
                continue
            yield from _unit_updates(plan_id, index, unit, owed, per_unit, next_id, latest)

    # Stored in the order of time, as the service appends them (ids too): the reports of
    # every unit interleaved. Written unit by unit, the export's read in time order jumped
    # between pages far apart on every row (SQLite's plain read of a million: 4.4 s, not 1.9).
    rows = sorted(updates(), key=lambda row: (row[9], row[0]))
    new_ids = {row[0]: number for number, row in enumerate(rows, start=1)}
    count = _bulk(
        connection, StatusUpdate, _UPDATE_COLUMNS, (_with_id(row, new_ids) for row in rows)
    )
    del rows
    latest = [(*row[:3], new_ids[row[3]], *row[4:]) for row in latest]
    _bulk(connection, LatestReport, _LATEST_COLUMNS, iter(latest))
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('status_updates', 'id'), "
                "(SELECT max(id) FROM status_updates))"
            )
        )
    return count


def _with_id(row: tuple[Any, ...], new_ids: dict[int, int]) -> tuple[Any, ...]:
    return (new_ids[row[0]], *row[1:])


_UPDATE_COLUMNS = (
    "id", "plan_id", "organisation_id", "period_id", "focal_point_id", "channel", "status",
    "progress", "note", "created_at",
)  # fmt: skip
_LATEST_COLUMNS = (
    "plan_id", "organisation_id", "period_id", "status_update_id", "status", "progress",
    "reported_at", "first_reported_at", "reports",
)  # fmt: skip


def _unit_updates(
    plan_id: int,
    index: int,
    unit: _Unit,
    owed: Sequence[ReportingPeriod],
    per_unit: int,
    next_id: list[int],
    latest: list[tuple[Any, ...]],
) -> Iterator[tuple[Any, ...]]:
    """One unit's reports: the i-th goes to period i mod n, a few hours after the previous
    one on that period, starting a week before its due date (so most are on time)."""
    first: dict[int, tuple[Any, ...]] = {}
    last: dict[int, tuple[Any, ...]] = {}
    counts: dict[int, int] = {}
    for number in range(per_unit):
        period = owed[number % len(owed)]
        assert period.id is not None
        round_ = number // len(owed)
        start = datetime.combine(period.due_before, datetime.min.time(), UTC)
        at = start - timedelta(days=7) + timedelta(hours=3 * round_, minutes=index % 60)
        status = STATUSES[(index + number) % len(STATUSES)]
        if (index * 7 + number) % 97 == 0:
            status = ReportStatus.BLOCKED
        row = (
            next_id[0], plan_id, unit.organisation_id, period.id, None, "telegram",
            status.value, (number * 7) % 101, NOTE, at,
        )  # fmt: skip
        next_id[0] += 1
        first.setdefault(period.id, row)
        last[period.id] = row
        counts[period.id] = counts.get(period.id, 0) + 1
        yield row
    for period_id, row in last.items():
        latest.append(
            (plan_id, unit.organisation_id, period_id, row[0], row[6], row[7], row[9],
             first[period_id][9], counts[period_id])
        )  # fmt: skip


def _bulk(
    connection: Connection, model: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> int:
    """Write ``rows`` (tuples in the order of ``columns``) into ``model``'s table, fast."""
    table = model.__table__.name
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, columns, rows)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    count = 0
    while chunk := [_sqlite_row(row) for _, row in zip(range(CHUNK), rows, strict=False)]:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)
        count += len(chunk)
    return count


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Timestamps as SQLAlchemy writes them on SQLite (naive UTC text)."""
    return tuple(
        v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
        for v in row
    )


def _copy(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> int:
    raw: Any = connection.connection.dbapi_connection
    count = 0
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                tuple(
                    v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v
                    for v in row
                )
            )
            count += 1
    return count
