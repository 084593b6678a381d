"""The inbox: updates a channel delivered, stored before they are acknowledged.

A webhook answers 200 only once the update is here, so a crash after that loses nothing; the
channel hands the pending rows, in arrival order, to their chats' queues and marks each done in
the transaction of its dialog turn (see :func:`claim_handling`); the unique message id keeps a
repeat out across restarts. Handled rows are pruned after some days.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import InboxState, InboxUpdate

KEEP_HANDLED = timedelta(days=7)  # how long a handled update's id keeps a repeat out
PRUNE_EVERY = timedelta(hours=1)


class Stored(enum.Enum):
    NEW = "new"  # stored now: to be handled
    REPEAT = "repeat"  # this message is stored already (handled or not)
    FULL = "full"  # not stored: too many updates wait to be handled


def pending_count(session: Session, *, channel: str) -> int:
    return session.exec(
        select(func.count(col(InboxUpdate.id))).where(
            InboxUpdate.channel == channel, InboxUpdate.state == InboxState.PENDING
        )
    ).one()


def _known(session: Session, *, channel: str, message_id: str) -> bool:
    return (
        session.exec(
            select(InboxUpdate.id).where(
                InboxUpdate.channel == channel, InboxUpdate.message_id == message_id
            )
        ).first()
        is not None
    )


def store_update(
    session: Session, *, channel: str, message_id: str, body: str, now: datetime, limit: int
) -> Stored:
    """Store an update unless its message is known already or ``limit`` updates are pending.

    Two deliveries of one message at the same instant are one row: the insert skips a message
    id already there (ON CONFLICT DO NOTHING), whichever transaction commits first.
    """
    if pending_count(session, channel=channel) >= limit:
        known = _known(session, channel=channel, message_id=message_id)
        return Stored.REPEAT if known else Stored.FULL
    table = InboxUpdate.__table__  # type: ignore[attr-defined]
    statement = (
        _insert(session.get_bind().dialect.name)(table)
        .values(
            channel=channel,
            message_id=message_id,
            body=body,
            state=InboxState.PENDING.value,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "message_id"])
        .returning(table.c.id)
    )
    return Stored.NEW if session.execute(statement).all() else Stored.REPEAT


def pending_after(
    session: Session, *, channel: str, after_id: int, limit: int
) -> list[InboxUpdate]:
    """The channel's updates still to be handled that came after ``after_id``, oldest first,
    at most ``limit``."""
    return list(
        session.exec(
            select(InboxUpdate)
            .where(
                InboxUpdate.channel == channel,
                InboxUpdate.state == InboxState.PENDING,
                col(InboxUpdate.id) > after_id,
            )
            .order_by(col(InboxUpdate.id))
            .limit(limit)
        ).all()
    )


def finish(session: Session, *, inbox_id: int, state: InboxState, now: datetime) -> None:
    """Mark a pending update handled (``done``) or given up (``failed``)."""
    session.execute(
        sa.update(InboxUpdate)
        .where(col(InboxUpdate.id) == inbox_id, col(InboxUpdate.state) == InboxState.PENDING)
        .values(state=state, handled_at=now)
    )


def claim_handling(session: Session, *, channel: str, message_id: str, now: datetime) -> bool:
    """In the transaction of the update's dialog turn: record that it is handled, so that it
    never is twice. An update that came straight from its channel (Telegram, whose offsets
    redeliver an update the bot died before confirming) gets a row saying so; one stored by the
    inbox is marked done. False when the update was handled already: the turn must not run."""
    connection = session.connection()
    statements = _claim_statements(connection.dialect.name)
    values = {"claim_channel": channel, "claim_message_id": message_id, "claim_at": now}
    if connection.execute(statements.record, values).first() is not None:
        return True
    marked = connection.execute(statements.mark_done, values)  # stored by the inbox: if pending
    return bool(marked.rowcount)


@dataclass(frozen=True)
class _ClaimStatements:
    record: sa.Executable  # a row for an update handled as it came, unless its id is known
    mark_done: sa.Executable  # a pending row of the inbox marked done


@functools.cache
def _claim_statements(dialect: str) -> _ClaimStatements:
    """Built once: every update runs them, and building a statement costs more than running
    this one."""
    table = InboxUpdate.__table__  # type: ignore[attr-defined]
    record = (
        _insert(dialect)(table)
        .values(
            channel=sa.bindparam("claim_channel"),
            message_id=sa.bindparam("claim_message_id"),
            body="",  # not kept: it was handled as it came
            state=InboxState.DONE.value,
            received_at=sa.bindparam("claim_at", type_=table.c.received_at.type),
            handled_at=sa.bindparam("claim_at", type_=table.c.handled_at.type),
        )
        .on_conflict_do_nothing(index_elements=["channel", "message_id"])
        .returning(table.c.id)
    )
    mark_done = (
        sa.update(table)
        .where(
            table.c.channel == sa.bindparam("claim_channel"),
            table.c.message_id == sa.bindparam("claim_message_id"),
            table.c.state == InboxState.PENDING.value,
        )
        .values(state=InboxState.DONE.value, handled_at=sa.bindparam("claim_at"))
    )
    return _ClaimStatements(record, mark_done)


def _insert(dialect: str) -> Callable[..., Any]:
    """The INSERT of ``dialect`` (PostgreSQL's or SQLite's: both have ON CONFLICT DO NOTHING)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def prune(session: Session, *, handled_before: datetime) -> int:
    """Forget updates handled before ``handled_before``; returns how many."""
    result = session.execute(
        sa.delete(InboxUpdate).where(
            col(InboxUpdate.state) != InboxState.PENDING,
            col(InboxUpdate.handled_at) < handled_before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
