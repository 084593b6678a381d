"""The chunks of the export's history cache (``history_chunks``): read in order, streamed,
appended one at a time, dropped. What goes in them: bot.export_history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from documents.deflate import Deflated
from storage.models import HistoryChunk, Plan, StatusUpdate
from storage.reports import after_update

_HEAD = [c for c in HistoryChunk.__table__.columns if c.name != "data"]  # type: ignore[attr-defined]


def heads(session: Session, *, plan_id: int) -> list[sa.Row[Any]]:
    """The plan's chunks in order, all but their data."""
    statement = (
        sa.select(*_HEAD)
        .where(col(HistoryChunk.plan_id) == plan_id)
        .order_by(col(HistoryChunk.number))
    )
    return list(session.connection().execute(statement))


def stream(session: Session, *, heads: list[sa.Row[Any]]) -> Iterator[tuple[Deflated, int]]:
    """The data of the chunks ``heads`` (a plan's first, in order), one row at a time (a
    server-side cursor on PostgreSQL): a megabyte or so each, never all held. Each is checked
    against its head: on PostgreSQL each statement sees what is committed when it starts, and
    another process may have dropped the cache and built it again since the heads were read."""
    if not heads:
        return
    statement = (
        sa.select(
            col(HistoryChunk.number),
            col(HistoryChunk.last_id),
            col(HistoryChunk.crc),
            col(HistoryChunk.text_length),
            col(HistoryChunk.rows),
            col(HistoryChunk.data),
        )
        .where(col(HistoryChunk.plan_id) == heads[0].plan_id)
        .where(col(HistoryChunk.number) < len(heads))
        .order_by(col(HistoryChunk.number))
        .execution_options(stream_results=True, yield_per=1)  # this statement's only
    )
    rows = session.connection().execute(statement)
    for head, (number, last_id, crc, length, count, data) in zip(heads, rows, strict=True):
        if (number, last_id, crc, length, count) != (
            head.number, head.last_id, head.crc, head.text_length, head.rows
        ):  # fmt: skip
            raise RuntimeError(f"the history cache of plan {head.plan_id} changed meanwhile")
        yield Deflated(bytes(data), crc, length), count


def chunk_end(
    session: Session, *, plan_id: int, after: int | None, before: datetime, rows: int
) -> tuple[int, datetime] | None:
    """The id and time of the ``rows``-th status update of the plan after the one of id
    ``after`` (from the first when None), if that one came before ``before``."""
    statement = sa.select(col(StatusUpdate.id), col(StatusUpdate.created_at)).where(
        col(StatusUpdate.plan_id) == plan_id, col(StatusUpdate.created_at) < before
    )
    if after is not None:
        statement = statement.where(after_update(after))
    statement = statement.order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
    row = session.execute(statement.offset(rows - 1).limit(1)).first()
    return (int(row[0]), row[1]) if row is not None else None


def append(session: Session, chunk: HistoryChunk, *, previous_last_id: int | None) -> bool:
    """Add the plan's next chunk if the chunk before it is still the one it was made after
    (another process may have dropped the cache meanwhile); False when not added, or when
    another process added that number first (the primary key: nothing is written twice)."""
    if chunk.number > 0:
        previous = session.get(HistoryChunk, (chunk.plan_id, chunk.number - 1))
        if previous is None or previous.last_id != previous_last_id:
            return False
    values = {c.name: getattr(chunk, c.name) for c in HistoryChunk.__table__.columns}  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(HistoryChunk).values(**values).on_conflict_do_nothing()
    # RETURNING tells whether the row went in (psycopg's rowcount of this INSERT is not 1)
    added = session.execute(statement.returning(col(HistoryChunk.number))).first()
    return added is not None


def drop(session: Session, *, plan_id: int) -> int:
    """Forget the plan's chunks (what they show changed); how many there were."""
    result: Any = session.execute(
        sa.delete(HistoryChunk).where(col(HistoryChunk.plan_id) == plan_id)
    )
    return int(result.rowcount)


def plan_ids(session: Session) -> list[int]:
    return [
        int(i) for i in session.execute(sa.select(col(Plan.id)).order_by(col(Plan.id))).scalars()
    ]
