"""Outbox rows: messages the bot owes someone, queued once per key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import (
    OutboxMessage,
    OutboxState,
)


def enqueue_outbox(session: Session, messages: Sequence[OutboxMessage]) -> int:
    """Queue messages; a key that is already queued (or sent) is skipped. Returns how many."""
    if not messages:
        return 0
    rows = [
        {
            "key": m.key,
            "channel": m.channel,
            "chat_id": m.chat_id,
            "focal_point_id": m.focal_point_id,
            "rule": m.rule,
            "text": m.text,
            "buttons": m.buttons,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": m.next_attempt_at,
            "created_at": m.created_at,
        }
        for m in messages
    ]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert: Callable[..., Any]
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database: {dialect}")
    inserted = 0
    for row in rows:
        # RETURNING tells reliably whether the row went in (rowcount does not, on every driver).
        statement = (
            insert(table).values(**row).on_conflict_do_nothing(index_elements=["key"])
        ).returning(table.c.id)
        inserted += len(session.execute(statement).all())
    return inserted


def due_outbox(
    session: Session, *, now: datetime, limit: int, channels: Sequence[str]
) -> list[OutboxMessage]:
    """Pending messages on the given channels whose next attempt is due."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                col(OutboxMessage.channel).in_(channels),
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        )
    )


def next_outbox_attempt(session: Session, *, channels: Sequence[str]) -> datetime | None:
    return session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == OutboxState.PENDING, col(OutboxMessage.channel).in_(channels)
        )
    ).one()


def outbox_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
