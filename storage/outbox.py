"""Outbox rows: messages the bot owes someone, queued once per key."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import (
    OutboxMessage,
    OutboxState,
)

# Rows per INSERT: 12 values each keeps a statement under SQLite's 32,766 bound parameters and
# PostgreSQL's 65,535, and a 10,000-recipient broadcast takes 20 statements.
ENQUEUE_CHUNK = 500


def enqueue_outbox(session: Session, messages: Sequence[OutboxMessage]) -> int:
    """Queue messages; a key already queued (or sent), or repeated in ``messages``, is skipped
    (the first one of a key wins). Returns how many rows went in.

    One multi-row ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id`` per chunk: RETURNING
    tells reliably which rows went in (rowcount does not, on every driver).
    """
    first_of_key = {m.key: m for m in reversed(messages)}  # reversed: the first one stays
    rows = [_insert_values(m) for m in messages if first_of_key[m.key] is m]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    insert = _dialect_insert(session)
    inserted = 0
    for start in range(0, len(rows), ENQUEUE_CHUNK):
        statement = (
            insert(table)
            .values(rows[start : start + ENQUEUE_CHUNK])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id)
        )
        inserted += len(session.execute(statement).all())
    return inserted


def _insert_values(message: OutboxMessage) -> dict[str, Any]:
    return {
        "key": message.key,
        "channel": message.channel,
        "chat_id": message.chat_id,
        "focal_point_id": message.focal_point_id,
        "rule": message.rule,
        "text": message.text,
        "buttons": message.buttons,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "pieces_sent": 0,
        "next_attempt_at": message.next_attempt_at,
        "created_at": message.created_at,
    }


def _dialect_insert(session: Session) -> Callable[..., Any]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database: {dialect}")  # pragma: no cover


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
