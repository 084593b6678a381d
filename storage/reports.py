"""Status updates: append-only reports of an organisation for one reporting period of a plan,
and the read model of the latest report per (plan, organisation, period) kept beside them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import (
    FocalPoint,
    Indicator,
    IndicatorValue,
    LatestReport,
    PlanUnit,
    ReportingPeriod,
    ReportStatus,
    StatusUpdate,
    Task,
    TaskResult,
)

LATEST = LatestReport.__table__  # type: ignore[attr-defined]


def upsert_for(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT … ON CONFLICT (SQLite and PostgreSQL both have one)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database: {dialect}")  # pragma: no cover


def record_status_update(session: Session, update: StatusUpdate) -> StatusUpdate:
    """Append a status update (rows are never changed afterwards) and bring the latest-report
    row of its (plan, organisation, period) up to date in the same transaction.

    The update is one statement, so two reports arriving at once both count: the newer one (by
    time, then id) becomes the latest and the earlier time stays the first.
    """
    session.add(update)
    session.flush()
    assert update.id is not None
    insert = upsert_for(session)(LATEST).values(
        plan_id=update.plan_id,
        organisation_id=update.organisation_id,
        period_id=update.period_id,
        status_update_id=update.id,
        status=update.status.value,
        progress=update.progress,
        reported_at=update.created_at,
        first_reported_at=update.created_at,
        reports=1,
    )
    new, old = insert.excluded, LATEST.c
    newer = sa.or_(
        new.reported_at > old.reported_at,
        sa.and_(new.reported_at == old.reported_at, new.status_update_id > old.status_update_id),
    )

    def pick(column: str) -> Any:
        return sa.case((newer, new[column]), else_=old[column])

    session.execute(
        insert.on_conflict_do_update(
            index_elements=["plan_id", "organisation_id", "period_id"],
            set_={
                "status_update_id": pick("status_update_id"),
                "status": pick("status"),
                "progress": pick("progress"),
                "reported_at": pick("reported_at"),
                "first_reported_at": sa.case(
                    (new.first_reported_at < old.first_reported_at, new.first_reported_at),
                    else_=old.first_reported_at,
                ),
                "reports": old.reports + 1,
            },
        )
    )
    return update


def record_indicator_values(
    session: Session, *, status_update_id: int, values: Mapping[int, float]
) -> None:
    """The indicator values a report gave (indicator id → value)."""
    for indicator_id, value in values.items():
        session.add(
            IndicatorValue(
                status_update_id=status_update_id, indicator_id=indicator_id, value=value
            )
        )


def record_task_results(
    session: Session,
    *,
    status_update_id: int,
    results: Mapping[int, tuple[ReportStatus, str | None]],
) -> None:
    """What a report said about the plan's tasks (task id → status and short result)."""
    for task_id, (status, result) in results.items():
        session.add(
            TaskResult(
                status_update_id=status_update_id, task_id=task_id, status=status, result=result
            )
        )


def task_results_of(
    session: Session, status_update_ids: Iterable[int]
) -> list[tuple[TaskResult, Task]]:
    """The task results of the given reports with their tasks, in the plan's order."""
    wanted = list(status_update_ids)
    if not wanted:
        return []
    rows = session.exec(
        select(TaskResult, Task)
        .join(Task, col(Task.id) == TaskResult.task_id)
        .where(col(TaskResult.status_update_id).in_(wanted))
        .order_by(col(TaskResult.status_update_id), col(Task.id))
    )
    return [(result, task) for result, task in rows]


def status_update_by_id(session: Session, update_id: int) -> StatusUpdate | None:
    return session.get(StatusUpdate, update_id)


def status_updates_by_id(session: Session, ids: Iterable[int]) -> dict[int, StatusUpdate]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(select(StatusUpdate).where(col(StatusUpdate.id).in_(wanted)))
    return {row.id: row for row in rows if row.id is not None}


def status_history(
    session: Session, *, organisation_id: int, plan_id: int | None = None, limit: int = 50
) -> list[StatusUpdate]:
    """An organisation's status updates (in one plan, when given), newest first, at most
    ``limit``."""
    query = select(StatusUpdate).where(StatusUpdate.organisation_id == organisation_id)
    if plan_id is not None:
        query = query.where(StatusUpdate.plan_id == plan_id)
    query = query.order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
    return list(session.exec(query.limit(limit)))


def latest_reports(
    session: Session,
    *,
    plan_id: int,
    period_ids: Iterable[int] | None = None,
    organisation_id: int | None = None,
) -> list[LatestReport]:
    """The latest report of every (organisation, period) of the plan that has one (of one
    organisation, when given)."""
    query = select(LatestReport).where(LatestReport.plan_id == plan_id)
    if period_ids is not None:
        query = query.where(col(LatestReport.period_id).in_(list(period_ids)))
    if organisation_id is not None:
        query = query.where(LatestReport.organisation_id == organisation_id)
    return list(session.exec(query))


class LatestRow(NamedTuple):
    """A latest-report row read as a plain tuple (the overview reads tens of thousands)."""

    organisation_id: int
    period_id: int
    status_update_id: int
    status: str
    progress: int
    reported_at: datetime
    first_reported_at: datetime
    reports: int


def latest_report_rows(
    session: Session,
    *,
    plan_id: int,
    period_ids: Iterable[int],
    organisation_ids: Iterable[int] | None = None,
) -> list[LatestRow]:
    """The latest reports of the plan for the given periods (of the given organisations, when
    given), as plain rows: no ORM object. Times are read as the driver gives them and made aware
    here (SQLite's text parsed by ``fromisoformat``, several times quicker than the column
    type's parser)."""
    wanted = list(period_ids)
    organisations = None if organisation_ids is None else list(organisation_ids)
    if not wanted or organisations == []:
        return []
    columns = [
        sa.type_coerce(LATEST.c[name], sa.String) if name.endswith("_at") else LATEST.c[name]
        for name in LatestRow._fields
    ]
    statement: Any = sa.select(*columns).where(
        LATEST.c.plan_id == plan_id, LATEST.c.period_id.in_(wanted)
    )
    if organisations is not None:
        statement = statement.where(LATEST.c.organisation_id.in_(organisations))
    return [
        LatestRow(a, b, c, d, e, _utc(reported), _utc(first), f)
        for a, b, c, d, e, reported, first, f in session.connection().execute(statement).all()
    ]


def _utc(value: Any) -> datetime:
    """A stored timestamp (naive UTC, as text on SQLite) as an aware UTC datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def latest_report(
    session: Session, *, plan_id: int, organisation_id: int, period_id: int
) -> LatestReport | None:
    return session.get(LatestReport, (plan_id, organisation_id, period_id))


def reported_organisations(session: Session, *, plan_id: int, period_id: int) -> set[int]:
    """The organisations that have reported for the period."""
    return set(
        session.exec(
            select(LatestReport.organisation_id).where(
                LatestReport.plan_id == plan_id, LatestReport.period_id == period_id
            )
        )
    )


def organisations_updated_since(session: Session, *, plan_id: int, since: datetime) -> set[int]:
    """The organisations that sent any report for the plan since ``since``."""
    return set(
        session.exec(
            select(StatusUpdate.organisation_id)
            .where(StatusUpdate.plan_id == plan_id, col(StatusUpdate.created_at) >= since)
            .distinct()
        )
    )


def indicator_values_of(session: Session, status_update_ids: Iterable[int]) -> list[IndicatorValue]:
    wanted = list(status_update_ids)
    if not wanted:
        return []
    return list(
        session.exec(select(IndicatorValue).where(col(IndicatorValue.status_update_id).in_(wanted)))
    )


HISTORY_BATCH = 5000
HistoryRow = tuple[str, int, int, int | None, str, int, str | None, str | None, str]


def history_rows(
    session: Session, *, plan_id: int, after: int | None = None, through: int | None = None
) -> Iterator[HistoryRow]:
    """Every status update of the plan, oldest first, as the driver's own tuples streamed in
    batches (a server-side cursor on PostgreSQL): created_at as naive UTC text
    "YYYY-MM-DD HH:MM:SS[.ffffff]", organisation_id, period_id, focal_point_id, status (the
    ReportStatus value), progress, note, file_name, channel.

    Read past SQLAlchemy: its rows and its parsing of SQLite's text timestamps took about 2 s
    of a million rows, and text is what the export needs (a minute's Excel serial is made
    once). PostgreSQL writes the same text, so both give the same workbook. Only the
    status updates' own columns: joined with units, periods and focal points the read took
    twice as long (three index look-ups a row); the export looks those up in Python.

    ``after``/``through``: only the updates after / up to and including the one of that id, in
    that order (the chunks of the export's cache end at one)."""
    connection = session.connection()
    statement = (
        sa.select(
            utc_text(col(StatusUpdate.created_at), connection),
            col(StatusUpdate.organisation_id),
            col(StatusUpdate.period_id),
            col(StatusUpdate.focal_point_id),
            col(StatusUpdate.status),
            col(StatusUpdate.progress),
            col(StatusUpdate.note),
            col(StatusUpdate.file_name),
            col(StatusUpdate.channel),
        )
        .where(col(StatusUpdate.plan_id) == int(plan_id))
        .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
    )
    if after is not None:
        statement = statement.where(after_update(int(after)))
    if through is not None:
        statement = statement.where(_through_update(int(through)))
    yield from driver_rows(connection, statement)


def utc_text(column: Any, connection: sa.Connection) -> Any:
    """A timestamp column read as its naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff", as SQLite
    holds it (PostgreSQL writes the same): no datetime made a row, and one time made into its
    Excel cell once."""
    if connection.dialect.name == "postgresql":
        column = sa.func.to_char(column, "YYYY-MM-DD HH24:MI:SS.US")
    return sa.type_coerce(column, sa.String)


def driver_rows(connection: sa.Connection, statement: sa.Select[Any]) -> Iterator[Any]:
    """The rows of ``statement`` as the driver's own tuples, fetched in batches (past
    SQLAlchemy's rows: for the export's hundreds of thousands). Its values must be ints, written
    into its text: no parameter style to match per driver."""
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    with _streaming_cursor(connection) as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(HISTORY_BATCH):
            yield from batch


def after_update(update_id: int) -> sa.ColumnElement[bool]:
    """Later than that status update in the order of (created_at, id): its time read by a
    subquery, so the statement holds ints only (written into its text, see above). The
    ``>=`` lets the plan's (plan_id, created_at, id) index start the scan there."""
    created, own_id, moment = _update_time(update_id)
    return sa.and_(created >= moment, sa.or_(created > moment, own_id > update_id))


def _through_update(update_id: int) -> sa.ColumnElement[bool]:
    """Not later than that status update (the index ends the scan there, as above)."""
    created, own_id, moment = _update_time(update_id)
    return sa.and_(created <= moment, sa.or_(created < moment, own_id <= update_id))


def _update_time(update_id: int) -> tuple[Any, Any, Any]:
    other = aliased(StatusUpdate)
    moment = sa.select(col(other.created_at)).where(col(other.id) == update_id).scalar_subquery()
    return col(StatusUpdate.created_at), col(StatusUpdate.id), moment


def count_through(session: Session, *, plan_id: int, update_id: int) -> int:
    """How many status updates of the plan come up to and including that one, in that order."""
    statement = sa.select(sa.func.count()).where(
        col(StatusUpdate.plan_id) == plan_id, _through_update(update_id)
    )
    return int(session.connection().execute(statement).scalar_one())


def _streaming_cursor(connection: sa.Connection) -> Any:
    """A DBAPI cursor of the session's transaction that fetches as it goes: a named (server-side)
    one on PostgreSQL, whose client cursor would load every row first; SQLite's steps anyway."""
    driver: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        return driver.cursor(name="nhacviec_history")
    return contextlib.closing(driver.cursor())


def reporter_names(session: Session, *, plan_id: int) -> dict[int, str]:
    """The names of every focal point of the plan's organisations, joined or not, by id."""
    organisations = sa.select(col(PlanUnit.organisation_id)).where(col(PlanUnit.plan_id) == plan_id)
    statement = sa.select(col(FocalPoint.id), col(FocalPoint.full_name)).where(
        col(FocalPoint.organisation_id).in_(organisations)
    )
    return {row.id: row.full_name for row in session.execute(statement)}


def _has_indicator_values(session: Session, plan_id: int) -> bool:
    plan_indicators = sa.select(col(Indicator.id)).where(col(Indicator.plan_id) == plan_id)
    statement: Any = sa.select(
        sa.exists().where(col(IndicatorValue.indicator_id).in_(plan_indicators))
    )
    return bool(session.connection().execute(statement).scalar())


def latest_indicator_values(
    session: Session, *, plan_id: int, organisation_id: int | None = None
) -> list[sa.Row[Any]]:
    """The indicator values of every latest report of the plan (of one organisation, when
    given): indicator_id, value, unit_name, period_title, organisation_id, period_id.

    A plan whose reports gave no value yet is answered from the values' index alone: the join
    would otherwise walk every latest report of the plan (a million-report plan's thousands)."""
    if organisation_id is None and not _has_indicator_values(session, plan_id):
        return []
    statement: Any = (
        sa.select(
            col(IndicatorValue.indicator_id),
            col(IndicatorValue.value),
            col(PlanUnit.short_name).label("unit_name"),
            col(ReportingPeriod.title).label("period_title"),
            col(LatestReport.organisation_id),
            col(LatestReport.period_id),
        )
        .join(LatestReport, col(LatestReport.status_update_id) == IndicatorValue.status_update_id)
        .join(
            PlanUnit,
            sa.and_(
                col(PlanUnit.plan_id) == LatestReport.plan_id,
                col(PlanUnit.organisation_id) == LatestReport.organisation_id,
            ),
        )
        .join(ReportingPeriod, col(ReportingPeriod.id) == LatestReport.period_id)
        .where(col(LatestReport.plan_id) == plan_id)
        .order_by(
            col(IndicatorValue.indicator_id),
            col(ReportingPeriod.due_before),
            col(PlanUnit.position),
        )
    )
    if organisation_id is not None:
        statement = statement.where(col(LatestReport.organisation_id) == organisation_id)
    return list(session.execute(statement))
