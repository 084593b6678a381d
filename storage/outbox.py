"""Outbox rows: messages the bot owes someone, queued once per key."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import (
    OutboxMessage,
    OutboxPicture,
    OutboxState,
)

# Rows per INSERT. Each INSERT reads its rows from one JSON parameter (json_each on SQLite,
# jsonb_array_elements on PostgreSQL), so its size is not bound by the drivers' parameter
# limits; a broadcast to 10,000 people takes five statements.
ENQUEUE_CHUNK = 2000
_COLUMNS = (
    "key",
    "channel",
    "chat_id",
    "focal_point_id",
    "rule",
    "text",
    "buttons",
    "state",
    "attempts",
    "pieces_sent",
    "next_attempt_at",
    "created_at",
)
_TIMESTAMPS = ("next_attempt_at", "created_at")
_PENDING = OutboxState.PENDING.value


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message to queue: what :func:`enqueue_outbox` needs of an outbox row, as a plain
    value (an ``OutboxMessage`` table object costs a hundred times more to build, which a
    fan-out to 10,000 people feels before its first message goes out)."""

    key: str
    channel: str
    chat_id: str
    rule: str
    text: str
    next_attempt_at: datetime
    created_at: datetime
    buttons: str | None = None  # JSON, as scheduler.messages.buttons_to_json writes it
    focal_point_id: int | None = None


def enqueue_outbox(session: Session, messages: Sequence[QueuedMessage | OutboxMessage]) -> int:
    """Queue messages; a key already queued (or sent), or repeated in ``messages``, is skipped
    (the first one of a key wins). Returns how many rows went in.

    One multi-row ``INSERT … SELECT … ON CONFLICT (key) DO NOTHING RETURNING id`` per chunk of
    :data:`ENQUEUE_CHUNK` rows: RETURNING tells reliably which rows went in (rowcount does not,
    on every driver). The rows travel as one JSON parameter rather than a VALUES list of 12
    parameters a row, which SQLAlchemy takes 40 µs a row to build and psycopg as long again
    to parse (10,000 rows took 1–7 s that way).
    """
    first_of_key = {m.key: m for m in reversed(messages)}  # reversed: the first one stays
    rows = [_row(m) for m in messages if first_of_key[m.key] is m]
    table: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect
    inserted = 0
    for start in range(0, len(rows), ENQUEUE_CHUNK):
        encoded = _json_rows(table, rows[start : start + ENQUEUE_CHUNK], dialect)
        statement: postgresql.Insert | sqlite.Insert
        if dialect.name == "postgresql":
            statement = postgresql.insert(table).from_select(_COLUMNS, _postgresql_rows(encoded))
        elif dialect.name == "sqlite":
            statement = sqlite.insert(table).from_select(_COLUMNS, _sqlite_rows(encoded))
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"unsupported database: {dialect.name}")
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
        inserted += len(session.execute(statement.returning(table.c.id)).all())
    return inserted


def _row(message: QueuedMessage | OutboxMessage) -> tuple[Any, ...]:
    """The values of :data:`_COLUMNS` for ``message``, as a new row."""
    return (
        message.key,
        message.channel,
        message.chat_id,
        message.focal_point_id,
        message.rule,
        message.text,
        message.buttons,
        _PENDING,
        0,
        0,
        message.next_attempt_at,
        message.created_at,
    )


def _json_rows(table: sa.Table, rows: Sequence[tuple[Any, ...]], dialect: sa.Dialect) -> str:
    """``rows`` as a JSON array of arrays, each value converted first as its column converts
    it for this database (UTC timestamps, enum values); timestamps then in ISO form."""
    columns = []
    for name, values in zip(_COLUMNS, zip(*rows, strict=True), strict=True):
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None or name in _TIMESTAMPS:  # once per value: a fan-out shares them
            converted = {v: _plain(convert(v) if convert is not None else v) for v in set(values)}
            values = tuple(converted[v] for v in values)
        columns.append(values)
    return json.dumps(list(zip(*columns, strict=True)))


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


def _sqlite_rows(encoded: str) -> sa.Select[Any]:
    """The rows of ``encoded`` as a SELECT (SQLite keeps the values as they are)."""
    value = sa.column("value", sa.JSON)
    return (
        sa.select(*(sa.func.json_extract(value, f"$[{i}]") for i in range(len(_COLUMNS))))
        .select_from(sa.func.json_each(sa.bindparam("rows", encoded, type_=sa.Text)))
        .where(sa.true())  # SQLite's documented way to tell this SELECT from ON CONFLICT
    )


def _postgresql_rows(encoded: str) -> sa.Select[Any]:
    """The rows of ``encoded`` as a SELECT, each value cast to its column's type (through
    JSONB, which PostgreSQL reads three times faster than JSON here: no re-parsing per ->>)."""
    table: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]
    rows = sa.cast(sa.bindparam("rows", encoded, type_=sa.Text), postgresql.JSONB)
    value = sa.column("value", postgresql.JSONB)
    return sa.select(
        *(
            sa.cast(value.op("->>")(sa.literal_column(str(i))), table.c[name].type)
            for i, name in enumerate(_COLUMNS)
        )
    ).select_from(sa.func.jsonb_array_elements(rows))


def due_outbox(
    session: Session,
    *,
    now: datetime,
    limit: int,
    channels: Sequence[str],
    exclude: Collection[int] = (),
) -> list[OutboxMessage]:
    """Pending messages on the given channels whose next attempt is due, oldest first, except
    the rows ``exclude`` names (being sent, their results not yet recorded)."""
    query = select(OutboxMessage).where(
        OutboxMessage.state == OutboxState.PENDING,
        col(OutboxMessage.channel).in_(channels),
        col(OutboxMessage.next_attempt_at) <= now,
    )
    if exclude:
        query = query.where(col(OutboxMessage.id).not_in(exclude))
    return list(
        session.exec(
            query.order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id)).limit(limit)
        )
    )


def mark_outbox_sent(session: Session, sent: Sequence[tuple[int, datetime]]) -> None:
    """Record rows as sent, each at its time: one UPDATE for the whole batch."""
    if not sent:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            state=OutboxState.SENT.value,
            sent_at=bindparam("when"),
            attempts=table.c.attempts + 1,
            last_error=None,
        )
    )
    session.execute(statement, [{"row_id": row_id, "when": when} for row_id, when in sent])


def next_outbox_attempt(session: Session, *, channels: Sequence[str]) -> datetime | None:
    return session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == OutboxState.PENDING, col(OutboxMessage.channel).in_(channels)
        )
    ).one()


def outbox_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def attach_pictures(
    session: Session, *, key: str, pictures: Sequence[tuple[str, str, bytes]]
) -> int:
    """Keep ``pictures`` (filename, caption, PNG bytes) with the queued row ``key``, to go after
    its text; nothing when the row is not there or has its pictures already. Returns how many
    were attached."""
    row = outbox_by_key(session, key)
    if row is None or row.id is None or row.pictures or not pictures:
        return 0
    for position, (filename, caption, content) in enumerate(pictures):
        session.add(
            OutboxPicture(
                outbox_id=row.id,
                position=position,
                filename=filename,
                caption=caption,
                content=content,
            )
        )
    row.pictures = len(pictures)
    session.add(row)
    session.flush()
    return len(pictures)


def pictures_of(session: Session, *, outbox_id: int) -> list[OutboxPicture]:
    return list(
        session.exec(
            select(OutboxPicture)
            .where(OutboxPicture.outbox_id == outbox_id)
            .order_by(col(OutboxPicture.position))
        )
    )


def drop_pictures(session: Session, outbox_ids: Collection[int]) -> None:
    """Forget the pictures of rows delivered or given up (the count on the row stays)."""
    if outbox_ids:
        session.execute(
            sa.delete(OutboxPicture).where(col(OutboxPicture.outbox_id).in_(outbox_ids))
        )
