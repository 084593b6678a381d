"""Where each user is in a conversation, kept so that a restart resumes it."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import (
    DialogState,
)


def dialog_state(session: Session, *, channel: str, user_id: str) -> DialogState | None:
    return session.exec(
        select(DialogState).where(DialogState.channel == channel, DialogState.user_id == user_id)
    ).first()


def clear_dialog_state(session: Session, *, channel: str, user_id: str) -> None:
    state = dialog_state(session, channel=channel, user_id=user_id)
    if state is not None:
        session.delete(state)
