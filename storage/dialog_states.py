"""Where each user is in a conversation, kept so that a restart resumes it."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import (
    DialogState,
)


def dialog_state(session: Session, *, channel: str, user_id: str) -> DialogState | None:
    return session.execute(
        _dialog_state_statement(), {"channel": channel, "user_id": user_id}
    ).scalar_one_or_none()


@functools.cache
def _dialog_state_statement() -> sa.Select[Any]:
    """Built once: it runs on every update, and building it costs more than running it."""
    return sa.select(DialogState).where(
        col(DialogState.channel) == sa.bindparam("channel"),
        col(DialogState.user_id) == sa.bindparam("user_id"),
    )


# Where a user is, as the start of a turn reads it: flow, step, token, data, updated_at.
SavedStep = sa.Row[str, str, str, str, datetime]


def saved_step(session: Session, *, channel: str, user_id: str) -> SavedStep | None:
    """The user's conversation as stored, read as plain values (not a DialogState to change):
    every turn reads it, and most find none. Read past the session: what it holds unflushed is
    not seen (the turn reads this before it changes anything)."""
    return (
        session.connection()
        .execute(_saved_step_statement(), {"channel": channel, "user_id": user_id})
        .first()
    )


@functools.cache
def _saved_step_statement() -> sa.Select[str, str, str, str, datetime]:
    """Built once: it runs on every update, and building it costs more than running it."""
    return sa.select(
        col(DialogState.flow),
        col(DialogState.step),
        col(DialogState.token),
        col(DialogState.data),
        col(DialogState.updated_at),
    ).where(
        col(DialogState.channel) == sa.bindparam("channel"),
        col(DialogState.user_id) == sa.bindparam("user_id"),
    )


def clear_dialog_state(session: Session, *, channel: str, user_id: str) -> None:
    state = dialog_state(session, channel=channel, user_id=user_id)
    if state is not None:
        session.delete(state)
