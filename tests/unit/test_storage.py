"""The storage layer against real databases: migrations, connections, plan loading, queries, lock.

Tests taking the ``database`` fixture run on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import fcntl
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel, col, select

from storage import (
    dialog_states,
    invites,
    migrate,
    outbox,
    overview_counts,
    people,
    plans,
    read_models,
    reminder_runs,
    reports,
)
from storage.database import SQLITE_BUSY_TIMEOUT_MS, Database
from storage.lease import LOCK_CLASS
from storage.lock import ServiceLock, ServiceLockHeld, acquire_service_lock
from storage.models import (
    Campaign,
    DialogState,
    FocalPoint,
    Invite,
    LatestReport,
    MembershipState,
    Organisation,
    OutboxMessage,
    OutboxState,
    Plan,
    PlanSection,
    PlanUnit,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
    Task,
)
from storage.plan_file import PlanSpec
from storage.plan_loader import load_plan
from tests.conftest import (
    SEED_PLAN_FILE,
    TEST_DATABASE_URL,
    drop_postgres_schema,
    postgres_schema_database,
)

LOADED_AT = datetime(2021, 3, 8, 1, 0, tzinfo=UTC)  # what the seed_plan fixture uses
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# The seed plan's first report is late from 10/06/2021 00:00 in Thái Bình (UTC+7).
FIRST_DUE_AT = datetime(2021, 6, 9, 17, 0, tzinfo=UTC)
PLAN_TABLES: tuple[type[SQLModel], ...] = (
    Plan,
    PlanSection,
    PlanUnit,
    Task,
    ReportingPeriod,
    Campaign,
)


# --- helpers -----------------------------------------------------------------------------------


def _schema_differences(database: Database) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def _current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config(database)).get_current_head()


def _table_names(database: Database) -> set[str]:
    with database.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def _count(database: Database, model: type[SQLModel]) -> int:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    with database.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _rows(
    database: Database, model: type[SQLModel], *, leave_out: str = ""
) -> list[tuple[Any, ...]]:
    """Every row of a table, ordered by id, without the column ``leave_out``."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    columns = [column for column in table.columns if column.name != leave_out]
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(*columns).order_by(table.c.id))]


def _plan_snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__tablename__: _rows(database, model, leave_out="loaded_at")  # type: ignore[misc]
        for model in PLAN_TABLES
    }


def _reporting_agencies(database: Database, plan: Plan) -> list[PlanUnit]:
    assert plan.id is not None
    return database.run_sync(plans.units, plan_id=plan.id, reporting_only=True)


def _deadline(database: Database, plan: Plan, code: str) -> ReportingPeriod:
    assert plan.id is not None
    found = database.run_sync(plans.period_by_code, plan_id=plan.id, code=code)
    assert found is not None
    return found


def _add_focal_point(database: Database, agency: PlanUnit, *, active: bool = True) -> FocalPoint:
    focal_point = FocalPoint(
        organisation_id=agency.organisation_id,
        full_name="Nguyễn Thị Hoa",
        position="Chuyên viên",
        phone="0912345678",
        registered_at=LOADED_AT,
        active=active,
    )

    def add(session: Session) -> FocalPoint:
        session.add(focal_point)
        session.flush()
        assert focal_point.id is not None
        people.decide_membership(
            session,
            focal_point_id=focal_point.id,
            plan_id=agency.plan_id,
            state=MembershipState.JOINED,
            now=LOADED_AT,
        )
        return focal_point

    return database.run_sync(add)


def _report(
    database: Database,
    agency: PlanUnit,
    deadline: ReportingPeriod,
    *,
    at: datetime,
    status: ReportStatus = ReportStatus.IN_PROGRESS,
    progress: int = 50,
) -> StatusUpdate:
    assert deadline.id is not None
    update = StatusUpdate(
        plan_id=agency.plan_id,
        organisation_id=agency.organisation_id,
        period_id=deadline.id,
        channel="telegram",
        status=status,
        progress=progress,
        created_at=at,
    )
    return database.run_sync(reports.record_status_update, update)


def _unit_by_id(session: Session, unit_id: int) -> PlanUnit | None:
    return session.get(PlanUnit, unit_id)


def _message(key: str, *, text: str = "Nhắc báo cáo") -> OutboxMessage:
    return OutboxMessage(
        key=key,
        channel="telegram",
        chat_id="2001",
        rule="test",
        text=text,
        next_attempt_at=LOADED_AT,
        created_at=LOADED_AT,
    )


def _new_invite(database: Database, plan: Plan) -> Invite:
    agency = _reporting_agencies(database, plan)[0]
    return database.run_sync(
        invites.create_invite,
        unit=agency,
        created_by="coordinator",
        now=LOADED_AT,
        ttl=timedelta(days=7),
    )


def _claim(database: Database, code: str, user_id: str, *, channel: str = "telegram") -> bool:
    def claim(session: Session) -> bool:
        invite = invites.invite_by_code(session, code)
        assert invite is not None
        return invites.claim_invite(
            session, invite=invite, channel=channel, user_id=user_id, now=LOADED_AT
        )

    return database.run_sync(claim)


def _acquire_eventually(database: Database, *, within: float = 15.0) -> ServiceLock:
    """Take the lock, waiting a little if another test process on the server holds it."""
    deadline = time.monotonic() + within
    while True:
        try:
            return acquire_service_lock(database)
        except ServiceLockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _thread_id(session: Session) -> int:
    return threading.get_ident()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'pragmas.db'}")
    migrate.upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL)")
    db, schema = postgres_schema_database(TEST_DATABASE_URL)
    try:
        migrate.upgrade(db)
        yield db
    finally:
        db.dispose()
        drop_postgres_schema(TEST_DATABASE_URL, schema)


# --- migrations --------------------------------------------------------------------------------


def test_migrations_create_exactly_the_tables_the_models_describe(database: Database) -> None:
    assert _schema_differences(database) == []
    assert _current_revision(database) == _head_revision(database)
    assert set(SQLModel.metadata.tables) <= _table_names(database)


def test_upgrading_an_up_to_date_database_again_changes_nothing(
    database: Database, seed_plan: Plan
) -> None:
    before = _plan_snapshot(database)
    migrate.upgrade(database)
    migrate.upgrade(database)
    assert _current_revision(database) == _head_revision(database)
    assert _schema_differences(database) == []
    assert _plan_snapshot(database) == before


def test_downgrading_to_base_drops_every_table_and_upgrading_rebuilds_them(
    database: Database,
) -> None:
    migrate.downgrade(database, "base")
    assert _current_revision(database) is None
    assert _table_names(database) & set(SQLModel.metadata.tables) == set()
    migrate.upgrade(database)
    assert _current_revision(database) == _head_revision(database)
    assert _schema_differences(database) == []


def test_a_database_of_the_first_release_upgrades_with_its_data(
    database: Database, seed_plan: Plan
) -> None:
    """0001 → head keeps queued messages and reports; new columns get their defaults."""
    migrate.downgrade(database, "0001")
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox (key, channel, chat_id, rule, text, state, attempts, "
                "next_attempt_at, created_at) VALUES ('k1', 'telegram', '1', 'truoc-han', "
                "'Nhắc việc', 'pending', 0, '2021-06-01 01:30:00', '2021-06-01 01:30:00')"
            )
        )
    migrate.upgrade(database)
    queued = database.run_sync(outbox.outbox_by_key, "k1")
    assert queued is not None and queued.text == "Nhắc việc" and queued.pieces_sent == 0
    assert _schema_differences(database) == []


SECOND_RELEASE_ROWS = [
    "INSERT INTO plans (id, code, number, title, issuer, province, issued_on, timezone, "
    "source_file, loaded_at) VALUES (1, 'kh-cu', '40/KH-UBND', 'Kế hoạch năm 2021', 'UBND tỉnh', "
    "'Thái Bình', '2021-03-08', 'Asia/Ho_Chi_Minh', 'plans/kh.yaml', '2021-03-08 01:00:00')",
    "INSERT INTO agencies (id, plan_id, code, name, short_name, section, kind, position, "
    "is_coordinator, added_by_coordinator, active) VALUES "
    "(1, 1, 'SLDTBXH', 'Sở Lao động', 'Sở LĐTBXH', 'IV.1', 'department', 1, true, false, true), "
    "(2, 1, 'SYT', 'Sở Y tế', 'SYT', 'IV.6', 'department', 2, false, false, true), "
    "(3, 1, 'DVMOI', 'Đơn vị mới', 'Đơn vị mới', 'IV.14', 'other', 3, false, true, true)",
    "INSERT INTO deadlines (id, plan_id, code, title, due_before) VALUES "
    "(1, 1, 'so-ket', 'Báo cáo sơ kết', '2021-06-10'), "
    "(2, 1, 'tong-ket', 'Tổng kết', '2021-12-10')",
    "INSERT INTO focal_points (id, agency_id, full_name, position, phone, registered_at, active) "
    "VALUES (1, 2, 'Nguyễn Thị Hoa', 'Chuyên viên', '0912345678', '2021-05-01 01:00:00', true), "
    "(2, 3, 'Lê Văn Bảo', 'Phó phòng', '0987654321', '2021-05-02 01:00:00', true)",
    "INSERT INTO channel_accounts (id, focal_point_id, channel, user_id, chat_id, display_name, "
    "created_at) VALUES (1, 1, 'telegram', '2001', '2001', 'Hoa', '2021-05-01 01:00:00'), "
    "(2, 1, 'zalo', 'z1', 'z1', 'Hoa', '2021-05-03 01:00:00')",
    "INSERT INTO invites (id, agency_id, code, created_by, created_at, expires_at, used_at, "
    "focal_point_id) VALUES (1, 2, 'AAAAAAAAAAAAAAAAAAAAAA', 'telegram:1', '2021-04-30 01:00:00', "
    "'2021-05-07 01:00:00', '2021-05-01 01:00:00', 1), (2, 3, 'BBBBBBBBBBBBBBBBBBBBBB', "
    "'telegram:1', '2021-05-01 01:00:00', '2021-05-08 01:00:00', NULL, NULL)",
    "INSERT INTO status_updates (id, agency_id, deadline_id, focal_point_id, channel, status, "
    "progress, note, created_at) VALUES "
    "(1, 2, 1, 1, 'telegram', 'dang_trien_khai', 40, 'Đang làm', '2021-05-10 01:00:00.000000'), "
    "(2, 2, 1, 1, 'zalo', 'hoan_thanh', 100, NULL, '2021-06-01 01:00:00.000000'), "
    "(3, 3, 2, 2, 'telegram', 'vuong_mac', 20, 'Thiếu kinh phí', '2021-11-01 01:00:00.000000')",
    "INSERT INTO outbox (id, key, channel, chat_id, focal_point_id, rule, text, state, attempts, "
    "pieces_sent, next_attempt_at, created_at) VALUES "
    "(1, 'kh-cu/truoc-han:tong-ket:5/telegram:2001', "
    "'telegram', '2001', 1, 'truoc-han', 'Nhắc việc', 'pending', 0, 0, '2021-12-03 01:30:00', "
    "'2021-12-03 01:30:00')",
]


def test_a_database_of_the_second_release_upgrades_with_every_row(database: Database) -> None:
    """0002 (one plan, agencies, deadlines) → head (organisations, plan units, periods): every
    focal point, account, invite, report and queued message is kept and means the same."""
    migrate.downgrade(database, "0002")
    with database.engine.begin() as connection:
        for statement in SECOND_RELEASE_ROWS:
            connection.execute(sa.text(statement))
    migrate.upgrade(database)
    assert _schema_differences(database) == []
    assert [(o.code, o.name) for o in database.run_sync(_all, Organisation)] == [
        ("SLDTBXH", "Sở Lao động"), ("SYT", "Sở Y tế"), ("DVMOI", "Đơn vị mới")
    ]  # fmt: skip
    member = database.run_sync(people.membership, channel="zalo", user_id="z1")
    assert member is not None and member.organisation_name == "Sở Y tế" and member.plan_ids == (1,)
    assert member.full_name == "Nguyễn Thị Hoa" and not member.blocked
    latest = {(r.organisation_id, r.period_id): r for r in database.run_sync(_all, LatestReport)}
    syt = latest[(member.organisation_id, 1)]
    assert (syt.status_update_id, syt.progress, syt.reports) == (2, 100, 2)
    assert syt.first_reported_at == datetime(2021, 5, 10, 1, 0, tzinfo=UTC)
    updates = database.run_sync(_all, StatusUpdate)
    assert [(u.id, u.plan_id, u.period_id, u.progress, u.note) for u in updates] == [
        (1, 1, 1, 40, "Đang làm"), (2, 1, 1, 100, None), (3, 1, 2, 20, "Thiếu kinh phí")
    ]  # fmt: skip
    periods = database.run_sync(_all, ReportingPeriod)
    assert [(p.code, p.due_text) for p in periods] == [
        ("so-ket", "trước ngày 10/06/2021"), ("tong-ket", "trước ngày 10/12/2021")
    ]  # fmt: skip
    open_invite = database.run_sync(invites.invite_by_code, "BBBBBBBBBBBBBBBBBBBBBB")
    assert open_invite is not None and open_invite.plan_id == 1 and open_invite.used_at is None
    queued = database.run_sync(outbox.outbox_by_key, "kh-cu/truoc-han:tong-ket:5/telegram:2001")
    assert queued is not None and queued.state is OutboxState.PENDING
    added = database.run_sync(plans.unit_by_code, plan_id=1, code="DVMOI")
    assert added is not None and added.added_by_coordinator
    # the reminder that queued that message is recorded as run: it is not sent again
    assert database.run_sync(reminder_runs.runs_of, plan_id=1) == {"truoc-han:tong-ket:5"}


def test_a_database_of_release_0008_gets_the_report_indexes_and_keeps_every_report(
    database: Database, seed_plan: Plan
) -> None:
    """0008 → 0009 adds the composite indexes of the hot report queries; every status update
    and latest report stays, and one unit's history reads the same, newest first."""
    assert seed_plan.id is not None
    plan_id = seed_plan.id
    unit = database.run_sync(plans.unit_by_code, plan_id=plan_id, code="SYT")
    period = database.run_sync(plans.periods, plan_id=plan_id)[0]
    assert unit is not None and period.id is not None
    migrate.downgrade(database, "0008")
    assert "ix_status_updates_plan_organisation_time" not in _index_names(database)
    start = datetime(2021, 5, 1, 1, 0, tzinfo=UTC)
    for number in range(5):
        database.run_sync(
            reports.record_status_update,
            StatusUpdate(
                plan_id=plan_id,
                organisation_id=unit.organisation_id,
                period_id=period.id,
                channel="telegram",
                status=ReportStatus.IN_PROGRESS,
                progress=10 * number,
                created_at=start + timedelta(days=number),
            ),
        )
    before = (database.run_sync(_all, StatusUpdate), database.run_sync(_all, LatestReport))
    migrate.upgrade(database)
    assert _schema_differences(database) == []
    assert {
        "ix_status_updates_plan_organisation_time",
        "ix_status_updates_plan_time_id",
        "ix_plan_memberships_plan_state",
    } <= _index_names(database)
    assert "ix_status_updates_plan_time" not in _index_names(database)
    after = (database.run_sync(_all, StatusUpdate), database.run_sync(_all, LatestReport))
    assert [[r.model_dump() for r in rows] for rows in after] == [
        [r.model_dump() for r in rows] for rows in before
    ]
    history = database.run_sync(
        reports.status_history, organisation_id=unit.organisation_id, plan_id=plan_id, limit=3
    )
    assert [u.progress for u in history] == [40, 30, 20]


def test_a_database_of_release_0009_gets_the_overview_count_indexes_and_keeps_every_row(
    database: Database, seed_plan: Plan
) -> None:
    """0009 → 0010 adds the indexes of the overview's counts; every unit and latest report
    stays, and the counts read through them are those of the full overview."""
    assert seed_plan.id is not None
    plan_id = seed_plan.id
    units = database.run_sync(plans.units, plan_id=plan_id, reporting_only=True)
    period = database.run_sync(plans.periods, plan_id=plan_id)[0]
    assert period.id is not None
    migrate.downgrade(database, "0009")
    assert "ix_latest_reports_plan_status" not in _index_names(database)
    for number, unit in enumerate(units[:6]):
        database.run_sync(
            reports.record_status_update,
            StatusUpdate(
                plan_id=plan_id,
                organisation_id=unit.organisation_id,
                period_id=period.id,
                channel="telegram",
                status=ReportStatus.BLOCKED if number % 2 else ReportStatus.DONE,
                progress=10 * number,
                created_at=datetime(2021, 5, 1, 1, 0, tzinfo=UTC) + timedelta(days=number),
            ),
        )
    before = [database.run_sync(_all, model) for model in (PlanUnit, LatestReport)]
    migrate.upgrade(database)
    assert _schema_differences(database) == []
    assert {"ix_latest_reports_plan_status", "ix_plan_units_plan_reporting"} <= _index_names(
        database
    )
    after = [database.run_sync(_all, model) for model in (PlanUnit, LatestReport)]
    assert [[r.model_dump() for r in rows] for rows in after] == [
        [r.model_dump() for r in rows] for rows in before
    ]
    now = datetime(2021, 7, 1, tzinfo=UTC)

    def counts(session: Session) -> tuple[object, object, int]:
        totals = overview_counts.overview_totals(session, plan=seed_plan, now=now)
        full = read_models.overview(session, plan=seed_plan, now=now)
        blocked = overview_counts.blocked_count(session, totals, kinds=())
        return totals.stats, full.stats, blocked

    read, expected, blocked = database.run_sync(counts)
    assert read == expected and blocked == 3


def _index_names(database: Database) -> set[str]:
    inspector = sa.inspect(database.engine)
    return {
        str(index["name"])
        for table in ("status_updates", "plan_memberships", "latest_reports", "plan_units")
        for index in inspector.get_indexes(table)
    }


def _all(session: Session, model: type[SQLModel]) -> list[Any]:
    primary = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    return list(session.exec(select(model).order_by(*primary)))


def test_the_schema_comparison_notices_a_missing_index(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_outbox_state"))
    differences = _schema_differences(database)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_outbox_state")]


def test_the_migration_template_imports_sqlmodel_for_autogenerated_column_types() -> None:
    template = (migrate.MIGRATIONS_DIR / "script.py.mako").read_text(encoding="utf-8")
    assert "\nimport sqlmodel\n" in template


# --- SQLite connections ------------------------------------------------------------------------


def test_every_sqlite_connection_uses_wal_a_busy_timeout_and_foreign_keys(
    sqlite_database: Database,
) -> None:
    engine = sqlite_database.engine
    with engine.connect() as first, engine.connect() as second:
        assert first.connection.dbapi_connection is not second.connection.dbapi_connection
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS > 0
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    sqlite_database.dispose()  # the next connection is a brand new one
    with engine.connect() as fresh:
        assert fresh.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert fresh.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_refuses_a_row_pointing_at_a_missing_parent(sqlite_database: Database) -> None:
    orphan = PlanUnit(
        plan_id=999,
        organisation_id=999,
        code="MOCOI",
        name="Không có kế hoạch",
        short_name="X",
        section="IV.1",
        kind="x",
    )

    def add(session: Session) -> None:
        session.add(orphan)

    with pytest.raises(sa.exc.IntegrityError):
        sqlite_database.run_sync(add)
    assert _count(sqlite_database, PlanUnit) == 0


# --- loading a plan ----------------------------------------------------------------------------


def test_loading_the_seed_plan_creates_every_part_of_it(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    assert _count(database, Plan) == 1
    assert _count(database, PlanUnit) == len(list(seed_spec.units()))
    assert _count(database, Organisation) == len(list(seed_spec.units()))
    assert _count(database, ReportingPeriod) == len(seed_spec.reporting_periods()) == 2
    assert _count(database, Campaign) == len(seed_spec.campaign_runs()) == 1
    assert _count(database, PlanSection) == len(seed_spec.cross_cutting) + len(
        seed_spec.responsibilities
    )
    assert _count(database, Task) == sum(len(item.tasks) for item in seed_spec.cross_cutting) + sum(
        len(item.tasks) for item in seed_spec.responsibilities
    )
    assert seed_plan.id is not None
    coordinator = database.run_sync(plans.coordinator_unit, plan_id=seed_plan.id)
    assert coordinator is not None and coordinator.code == seed_spec.coordinator
    assert [
        section.section for section in database.run_sync(plans.open_sections, plan_id=seed_plan.id)
    ] == [item.section for item in seed_spec.responsibilities if item.open]


def test_loading_the_same_plan_again_changes_nothing_but_the_load_time(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    before = _plan_snapshot(database)
    later = LOADED_AT + timedelta(days=30)
    again = database.run_sync(load_plan, seed_spec, source_file=str(SEED_PLAN_FILE), now=later)
    assert again.id == seed_plan.id
    assert _plan_snapshot(database) == before
    reread = database.run_sync(plans.plan_by_code, seed_spec.code)
    assert reread is not None and reread.loaded_at == later


def test_reloading_the_plan_keeps_focal_points_reports_and_units_the_coordinator_added(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    assert seed_plan.id is not None
    agency = _reporting_agencies(database, seed_plan)[0]
    focal_point = _add_focal_point(database, agency)
    update = _report(
        database, agency, _deadline(database, seed_plan, "so-ket-6-thang"), at=LOADED_AT
    )
    open_section = database.run_sync(plans.open_sections, plan_id=seed_plan.id)[0]
    added = database.run_sync(
        plans.add_unit_to_open_section,
        plan_id=seed_plan.id,
        section=open_section.section,
        kind=open_section.kind,
        name="Ủy ban nhân dân huyện Mới",
        short_name="UBND huyện Mới",
    )

    database.run_sync(load_plan, seed_spec, source_file=str(SEED_PLAN_FILE), now=LOADED_AT)

    assert _rows(database, FocalPoint) == [
        (
            focal_point.id,
            agency.organisation_id,
            "Nguyễn Thị Hoa",
            "Chuyên viên",
            "0912345678",
            LOADED_AT,
            True,
        )
    ]
    kept = database.run_sync(reports.status_update_by_id, update.id or 0)
    assert kept is not None and kept.organisation_id == agency.organisation_id
    reloaded_added = database.run_sync(_unit_by_id, added.id or 0)
    assert reloaded_added is not None
    assert reloaded_added.active and reloaded_added.added_by_coordinator
    assert _count(database, PlanUnit) == len(list(seed_spec.units())) + 1


def test_a_unit_dropped_from_the_file_is_deactivated_and_a_reported_deadline_is_kept(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    assert seed_plan.id is not None
    dropped_unit = seed_spec.responsibilities[-1].units[-1]
    agency = database.run_sync(plans.unit_by_code, plan_id=seed_plan.id, code=dropped_unit.code)
    assert agency is not None
    _add_focal_point(database, agency)
    year_end = _deadline(database, seed_plan, "tong-ket-nam")
    _report(database, agency, year_end, at=LOADED_AT)

    last = seed_spec.responsibilities[-1]
    edited = seed_spec.model_copy(
        update={
            "responsibilities": [
                *seed_spec.responsibilities[:-1],
                last.model_copy(update={"units": last.units[:-1]}),
            ],
            # both deadlines leave the file; only the one with a report keeps its row
            "deadlines": [],
        }
    )
    database.run_sync(load_plan, edited, source_file=str(SEED_PLAN_FILE), now=LOADED_AT)

    gone = database.run_sync(_unit_by_id, agency.id or 0)
    assert gone is not None and not gone.active
    assert dropped_unit.code not in {
        a.code for a in database.run_sync(plans.units, plan_id=seed_plan.id)
    }
    assert _count(database, FocalPoint) == 1
    assert _count(database, StatusUpdate) == 1
    assert [d.code for d in database.run_sync(plans.periods, plan_id=seed_plan.id)] == [
        "tong-ket-nam"
    ]

    database.run_sync(load_plan, seed_spec, source_file=str(SEED_PLAN_FILE), now=LOADED_AT)
    back = database.run_sync(_unit_by_id, agency.id or 0)
    assert back is not None and back.active
    assert _count(database, PlanUnit) == len(list(seed_spec.units()))
    assert _count(database, ReportingPeriod) == len(seed_spec.reporting_periods())


# --- timestamps --------------------------------------------------------------------------------


def test_timestamps_come_back_as_the_same_instant_in_aware_utc(database: Database) -> None:
    written = datetime(2021, 3, 8, 8, 30, 15, 123456, tzinfo=VIETNAM)
    state = DialogState(
        channel="telegram",
        user_id="42",
        chat_id="42",
        flow="report",
        step="status",
        token="abc",
        updated_at=written,
    )

    def add(session: Session) -> None:
        session.add(state)

    database.run_sync(add)

    def read(session: Session) -> datetime:
        found = dialog_states.dialog_state(session, channel="telegram", user_id="42")
        assert found is not None
        return found.updated_at

    read_back = database.run_sync(read)
    assert read_back == written
    assert read_back.tzinfo is UTC
    assert read_back == datetime(2021, 3, 8, 1, 30, 15, 123456, tzinfo=UTC)


def test_a_naive_timestamp_is_refused(database: Database) -> None:
    state = DialogState(
        channel="telegram",
        user_id="43",
        chat_id="43",
        flow="report",
        step="status",
        token="abc",
        updated_at=datetime(2021, 3, 8, 8, 30),  # noqa: DTZ001 - the point of the test
    )

    def add(session: Session) -> None:
        session.add(state)

    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        database.run_sync(add)
    assert _count(database, DialogState) == 0


def test_timestamps_compare_and_aggregate_as_instants_whatever_the_callers_zone(
    database: Database,
) -> None:
    assert database.run_sync(outbox.enqueue_outbox, [_message("k-1")]) == 1
    one_minute_early = LOADED_AT.astimezone(VIETNAM) - timedelta(minutes=1)
    on_time = LOADED_AT.astimezone(VIETNAM)
    assert (
        database.run_sync(outbox.due_outbox, now=one_minute_early, limit=10, channels=["telegram"])
        == []
    )
    due = database.run_sync(outbox.due_outbox, now=on_time, limit=10, channels=["telegram"])
    assert [m.key for m in due] == ["k-1"]
    earliest = database.run_sync(outbox.next_outbox_attempt, channels=["telegram"])
    assert earliest == LOADED_AT and earliest is not None and earliest.tzinfo is UTC


# --- the overview ------------------------------------------------------------------------------


def test_the_overview_counts_reports_on_time_late_and_overdue_per_deadline(
    database: Database, seed_plan: Plan
) -> None:
    assert seed_plan.id is not None
    reporting = _reporting_agencies(database, seed_plan)
    first, second, third, inactive = reporting[0], reporting[1], reporting[2], reporting[3]
    mid_year = _deadline(database, seed_plan, "so-ket-6-thang")
    year_end = _deadline(database, seed_plan, "tong-ket-nam")

    def deactivate(session: Session) -> None:
        agency = session.get(PlanUnit, inactive.id)
        assert agency is not None
        agency.active = False
        session.add(agency)

    database.run_sync(deactivate)
    _add_focal_point(database, first)
    _add_focal_point(database, first)
    _add_focal_point(database, first, active=False)
    # one second before the deadline (23:59:59 on 09/06 in Thái Bình), then a later update
    _report(database, first, mid_year, at=FIRST_DUE_AT - timedelta(seconds=1))
    _report(
        database,
        first,
        mid_year,
        at=datetime(2021, 6, 20, tzinfo=UTC),
        status=ReportStatus.DONE,
        progress=100,
    )
    _report(database, second, mid_year, at=FIRST_DUE_AT)  # exactly at the deadline: late
    _report(database, third, year_end, at=datetime(2021, 11, 1, tzinfo=UTC))

    now = datetime(2021, 12, 20, 3, 0, tzinfo=UTC)
    result = database.run_sync(read_models.overview, plan=seed_plan, now=now)

    total = len(reporting) - 1
    assert [row.unit.id for row in result.rows] == [a.id for a in reporting if a is not inactive]
    assert [d.code for d in result.periods] == ["so-ket-6-thang", "tong-ket-nam"]
    by_code = {stats.period.code: stats for stats in result.stats}
    mid = by_code["so-ket-6-thang"]
    assert mid.due_at == FIRST_DUE_AT
    assert (mid.total, mid.reported, mid.on_time, mid.late, mid.overdue) == (
        total,
        2,
        1,
        1,
        total - 2,
    )
    assert mid.rate == pytest.approx(2 / total)
    end = by_code["tong-ket-nam"]
    assert (end.total, end.reported, end.on_time, end.late, end.overdue) == (
        total,
        1,
        1,
        0,
        total - 1,
    )

    rows = {row.unit.id: row for row in result.rows}
    assert mid_year.id is not None and year_end.id is not None
    first_cell = rows[first.id].cells[mid_year.id]
    assert first_cell.latest is not None and first_cell.latest.status is ReportStatus.DONE
    assert first_cell.first_reported_at == FIRST_DUE_AT - timedelta(seconds=1)
    assert first_cell.first_reported_at is not None and first_cell.first_reported_at.tzinfo is UTC
    assert not first_cell.overdue
    assert rows[first.id].focal_point_count == 2
    assert rows[second.id].focal_point_count == 0
    assert rows[third.id].cells[mid_year.id].overdue
    assert not rows[third.id].cells[year_end.id].overdue


def test_nothing_is_overdue_before_the_deadline_and_the_rate_is_zero_without_reports(
    database: Database, seed_plan: Plan
) -> None:
    just_before = FIRST_DUE_AT - timedelta(microseconds=1)
    result = database.run_sync(read_models.overview, plan=seed_plan, now=just_before)
    assert all(stats.reported == stats.overdue == 0 for stats in result.stats)
    assert all(stats.rate == 0.0 for stats in result.stats)
    at_deadline = database.run_sync(read_models.overview, plan=seed_plan, now=FIRST_DUE_AT)
    mid = at_deadline.stats[0]
    assert mid.overdue == mid.total == len(_reporting_agencies(database, seed_plan))


# --- the outbox --------------------------------------------------------------------------------


def test_queueing_the_same_outbox_key_twice_keeps_one_message(database: Database) -> None:
    assert database.run_sync(outbox.enqueue_outbox, [_message("remind:so-ket:7")]) == 1
    assert database.run_sync(outbox.enqueue_outbox, [_message("remind:so-ket:7", text="khác")]) == 0
    assert _count(database, OutboxMessage) == 1
    stored = database.run_sync(outbox.outbox_by_key, "remind:so-ket:7")
    assert stored is not None and stored.text == "Nhắc báo cáo"
    assert stored.state is OutboxState.PENDING


def test_duplicate_keys_in_one_batch_are_queued_once(database: Database) -> None:
    batch = [_message("a"), _message("b"), _message("a", text="lặp")]
    assert database.run_sync(outbox.enqueue_outbox, batch) == 2
    assert database.run_sync(outbox.enqueue_outbox, []) == 0
    assert sorted(key for (_, key, *_) in _rows(database, OutboxMessage)) == ["a", "b"]


def test_a_message_already_sent_is_not_queued_again(database: Database) -> None:
    database.run_sync(outbox.enqueue_outbox, [_message("sent-once")])

    def mark_sent(session: Session) -> None:
        message = outbox.outbox_by_key(session, "sent-once")
        assert message is not None
        message.state, message.sent_at = OutboxState.SENT, LOADED_AT
        session.add(message)

    database.run_sync(mark_sent)
    assert database.run_sync(outbox.enqueue_outbox, [_message("sent-once")]) == 0
    stored = database.run_sync(outbox.outbox_by_key, "sent-once")
    assert stored is not None and stored.state is OutboxState.SENT
    assert (
        database.run_sync(outbox.due_outbox, now=LOADED_AT, limit=10, channels=["telegram"]) == []
    )


# --- invites -----------------------------------------------------------------------------------


def test_a_fresh_invite_is_claimed_by_the_first_user_only(
    database: Database, seed_plan: Plan
) -> None:
    invite = _new_invite(database, seed_plan)
    assert len(invite.code) == invites.INVITE_CODE_LENGTH
    assert invite.expires_at == LOADED_AT + timedelta(days=7)

    assert _claim(database, invite.code, "501") is True
    assert _claim(database, invite.code, "502") is False
    assert _claim(database, invite.code, "501", channel="zalo") is False  # same id, other channel
    assert _claim(database, invite.code, "501") is True  # the holder may open it again

    stored = database.run_sync(invites.invite_by_code, invite.code)
    assert stored is not None
    assert (stored.claimed_channel, stored.claimed_user_id) == ("telegram", "501")
    assert stored.claimed_at == LOADED_AT and stored.claimed_at.tzinfo is UTC


def test_a_claim_made_with_an_outdated_copy_of_the_invite_fails(
    database: Database, seed_plan: Plan
) -> None:
    invite = _new_invite(database, seed_plan)
    stale = database.run_sync(invites.invite_by_code, invite.code)  # read before anyone claims
    assert stale is not None and stale.claimed_user_id is None
    assert _claim(database, invite.code, "601") is True

    def claim_stale(session: Session) -> bool:
        return invites.claim_invite(
            session, invite=stale, channel="telegram", user_id="602", now=LOADED_AT
        )

    assert database.run_sync(claim_stale) is False
    stored = database.run_sync(invites.invite_by_code, invite.code)
    assert stored is not None and stored.claimed_user_id == "601"


def test_invite_codes_are_unique_letters_and_digits() -> None:
    codes = {invites.new_invite_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(code.isalnum() and code.isascii() for code in codes)


# --- status updates ----------------------------------------------------------------------------


def _latest(database: Database, plan: Plan) -> dict[tuple[int, int], LatestReport]:
    assert plan.id is not None
    rows = database.run_sync(reports.latest_reports, plan_id=plan.id)
    return {(row.organisation_id, row.period_id): row for row in rows}


def test_status_updates_are_appended_and_the_newest_one_is_the_state(
    database: Database, seed_plan: Plan
) -> None:
    assert seed_plan.id is not None
    agency = _reporting_agencies(database, seed_plan)[0]
    mid_year = _deadline(database, seed_plan, "so-ket-6-thang")
    older = _report(database, agency, mid_year, at=datetime(2021, 5, 1, tzinfo=UTC))
    newer = _report(
        database,
        agency,
        mid_year,
        at=datetime(2021, 5, 20, tzinfo=UTC),
        status=ReportStatus.BLOCKED,
        progress=30,
    )

    assert _count(database, StatusUpdate) == 2
    latest = _latest(database, seed_plan)
    assert mid_year.id is not None
    cell = latest[(agency.organisation_id, mid_year.id)]
    assert cell.status_update_id == newer.id and cell.status is ReportStatus.BLOCKED
    assert cell.progress == 30 and cell.reports == 2
    assert cell.first_reported_at == datetime(2021, 5, 1, tzinfo=UTC)
    history = database.run_sync(reports.status_history, organisation_id=agency.organisation_id)
    assert [u.id for u in history] == [newer.id, older.id]
    first_kept = database.run_sync(reports.status_update_by_id, older.id or 0)
    assert first_kept is not None
    assert (first_kept.status, first_kept.progress) == (ReportStatus.IN_PROGRESS, 50)


def test_an_older_report_arriving_late_does_not_replace_the_latest(
    database: Database, seed_plan: Plan
) -> None:
    """The read model keeps the newest by time, whatever order the rows go in."""
    agency = _reporting_agencies(database, seed_plan)[0]
    mid_year = _deadline(database, seed_plan, "so-ket-6-thang")
    newer = _report(database, agency, mid_year, at=datetime(2021, 5, 20, tzinfo=UTC))
    _report(
        database,
        agency,
        mid_year,
        at=datetime(2021, 5, 1, tzinfo=UTC),
        status=ReportStatus.DONE,
        progress=100,
    )
    assert mid_year.id is not None
    cell = _latest(database, seed_plan)[(agency.organisation_id, mid_year.id)]
    assert cell.status_update_id == newer.id and cell.progress == 50
    assert cell.first_reported_at == datetime(2021, 5, 1, tzinfo=UTC)


def test_of_two_updates_made_at_the_same_instant_the_later_row_wins(
    database: Database, seed_plan: Plan
) -> None:
    assert seed_plan.id is not None
    agency = _reporting_agencies(database, seed_plan)[0]
    mid_year = _deadline(database, seed_plan, "so-ket-6-thang")
    at = datetime(2021, 5, 1, tzinfo=UTC)
    _report(database, agency, mid_year, at=at)
    second = _report(database, agency, mid_year, at=at, status=ReportStatus.DONE, progress=100)
    assert mid_year.id is not None
    latest = _latest(database, seed_plan)
    assert latest[(agency.organisation_id, mid_year.id)].status_update_id == second.id
    history = database.run_sync(
        reports.status_history, organisation_id=agency.organisation_id, limit=1
    )
    assert [u.id for u in history] == [second.id]


def test_a_report_must_name_a_unit_and_a_period_of_its_own_plan(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    """Enforced by the database (composite keys), not only by the code."""
    other = seed_spec.model_copy(update={"code": "ke-hoach-khac", "number": "99/KH-UBND"})
    other_plan = database.run_sync(load_plan, other, source_file="x.yaml", now=LOADED_AT)
    agency = _reporting_agencies(database, seed_plan)[0]
    their_period = _deadline(database, other_plan, "so-ket-6-thang")
    mixed = StatusUpdate(
        plan_id=agency.plan_id,  # this plan, with the other plan's period
        organisation_id=agency.organisation_id,
        period_id=their_period.id or 0,
        channel="telegram",
        status=ReportStatus.DONE,
        progress=100,
        created_at=LOADED_AT,
    )
    with pytest.raises(sa.exc.IntegrityError):
        database.run_sync(reports.record_status_update, mixed)
    stranger = database.run_sync(_new_organisation, "NGOAI")
    outsider = mixed.model_copy(
        update={
            "period_id": _deadline(database, seed_plan, "so-ket-6-thang").id,
            "organisation_id": stranger,
        }
    )
    with pytest.raises(sa.exc.IntegrityError):
        database.run_sync(reports.record_status_update, outsider)
    assert _count(database, StatusUpdate) == 0


def _new_organisation(session: Session, code: str) -> int:
    organisation = Organisation(code=code, name="Đơn vị ngoài kế hoạch", short_name=code, kind="x")
    session.add(organisation)
    session.flush()
    assert organisation.id is not None
    return organisation.id


def test_reported_and_updated_since_look_at_the_right_rows(
    database: Database, seed_plan: Plan
) -> None:
    assert seed_plan.id is not None
    first, second = _reporting_agencies(database, seed_plan)[:2]
    mid_year = _deadline(database, seed_plan, "so-ket-6-thang")
    year_end = _deadline(database, seed_plan, "tong-ket-nam")
    _report(database, first, mid_year, at=datetime(2021, 5, 1, tzinfo=UTC))
    _report(database, second, year_end, at=datetime(2021, 11, 1, tzinfo=UTC))
    assert database.run_sync(
        reports.reported_organisations, plan_id=seed_plan.id, period_id=mid_year.id or 0
    ) == {first.organisation_id}
    since = datetime(2021, 11, 1, 7, 0, tzinfo=VIETNAM)  # 00:00 UTC, the second report itself
    assert database.run_sync(
        reports.organisations_updated_since, plan_id=seed_plan.id, since=since
    ) == {second.organisation_id}


# --- the single-instance lock ------------------------------------------------------------------


def test_a_second_service_is_refused_the_lock_until_the_first_releases_it(
    database: Database,
) -> None:
    held = _acquire_eventually(database)
    try:
        with pytest.raises(ServiceLockHeld):
            acquire_service_lock(database)
        with pytest.raises(ServiceLockHeld):
            acquire_service_lock(database)  # a refusal leaves nothing behind
    finally:
        held.release()
    again = _acquire_eventually(database)
    again.release()
    again.release()  # releasing twice is harmless


def test_the_lock_is_refused_to_another_database_object_on_the_same_database(
    database: Database,
) -> None:
    if database.is_sqlite:
        other = Database(database.url)
    else:
        other = Database(database.url, schema=database.schema)
    held = _acquire_eventually(database)
    try:
        with pytest.raises(ServiceLockHeld):
            acquire_service_lock(other)
    finally:
        held.release()
        other.dispose()


def test_the_sqlite_lock_is_on_the_database_file_itself(sqlite_database: Database) -> None:
    """Keyed by the file's inode (a symlink or hard link meets it: test_service_lock.py); no
    lock file beside the database any more."""
    url_path = sqlite_database.engine.url.database
    assert url_path is not None
    held = acquire_service_lock(sqlite_database)
    try:
        with Path(url_path).open("rb") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert not Path(f"{url_path}.lock").exists()
    finally:
        held.release()


def test_an_in_memory_sqlite_database_needs_no_lock() -> None:
    memory = Database("sqlite://")
    try:
        first = acquire_service_lock(memory)
        second = acquire_service_lock(memory)
        first.release()
        second.release()
    finally:
        memory.dispose()


@pytest.mark.postgres
def test_the_postgresql_lock_is_an_advisory_lock_held_while_the_service_runs(
    postgres_database: Database,
) -> None:
    def holders() -> int:
        with postgres_database.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND classid = :class AND objid = :schema AND objsubid = 2"
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                    ),
                    {"class": LOCK_CLASS, "schema": zlib.crc32(str(schema).encode())},
                ).scalar_one()
            )

    schema = postgres_database.schema  # the lock's second key: deployments in other schemas
    held = _acquire_eventually(postgres_database)
    try:
        assert holders() == 1
    finally:
        held.release()
    assert holders() == 0
    # the released connection went back to the pool: its session must not keep the lock
    again = _acquire_eventually(postgres_database)
    again.release()


# --- running work off the event loop -----------------------------------------------------------


async def test_database_work_runs_in_a_worker_thread_not_on_the_event_loop(
    database: Database,
) -> None:
    loop_thread = threading.get_ident()
    worker_thread = await database.run(_thread_id)
    assert worker_thread != loop_thread
    # the loop stays free while the work runs
    results = await asyncio.gather(database.run(_thread_id), asyncio.sleep(0, result="loop"))
    assert results[1] == "loop"


async def test_work_run_from_the_loop_commits_and_a_failure_rolls_back(
    database: Database,
) -> None:
    assert await database.run(outbox.enqueue_outbox, [_message("async-1")]) == 1

    def queue_then_fail(session: Session) -> None:
        outbox.enqueue_outbox(session, [_message("async-2")])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await database.run(queue_then_fail)
    keys = await database.run(lambda session: list(session.exec(select(col(OutboxMessage.key)))))
    assert keys == ["async-1"]


async def test_concurrent_writers_wait_for_each_other_instead_of_failing(
    database: Database,
) -> None:
    counts = await asyncio.gather(
        *(database.run(outbox.enqueue_outbox, [_message(f"busy-{n}")]) for n in range(20))
    )
    assert counts == [1] * 20
    assert _count(database, OutboxMessage) == 20


async def test_writing_transactions_given_at_once_all_commit_on_either_backend(
    database: Database,
) -> None:
    keys = [f"turn-{n}" for n in range(20)]
    counts = await asyncio.gather(
        *(database.run_writing(outbox.enqueue_outbox, [_message(key)]) for key in keys)
    )
    assert counts == [1] * 20
    assert _count(database, OutboxMessage) == 20


async def test_on_sqlite_writing_transactions_run_one_after_the_other_in_the_order_given(
    sqlite_database: Database,
) -> None:
    """One thread writes (SQLite lets one transaction write at a time): none waits on another's
    lock, and each sees every one given before it."""
    seen: list[int] = []

    def write(session: Session, key: str) -> None:
        seen.append(len(session.exec(select(col(OutboxMessage.key))).all()))
        outbox.enqueue_outbox(session, [_message(key)])

    await asyncio.gather(*(sqlite_database.run_writing(write, f"w-{n}") for n in range(20)))
    assert seen == list(range(20))


async def test_of_many_users_opening_one_invite_at_once_exactly_one_gets_it(
    database: Database, seed_plan: Plan
) -> None:
    invite = _new_invite(database, seed_plan)
    users = [str(700 + n) for n in range(12)]
    results = await asyncio.gather(
        *(asyncio.to_thread(_claim, database, invite.code, user) for user in users)
    )
    assert sorted(results) == [False] * 11 + [True]
    winner = users[results.index(True)]
    stored = database.run_sync(invites.invite_by_code, invite.code)
    assert stored is not None and stored.claimed_user_id == winner
