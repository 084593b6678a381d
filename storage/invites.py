"""Invites and link codes: single-use, expiring codes that register or link an account."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import Invite, PlanUnit

INVITE_CODE_ALPHABET = string.ascii_letters + string.digits
INVITE_CODE_LENGTH = 22  # 22 × log2(62) ≈ 131 bits of randomness


def new_invite_code() -> str:
    """Letters and digits only: safe in a deep link and easy to copy from a chat."""
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def create_invite(
    session: Session, *, unit: PlanUnit, created_by: str, now: datetime, ttl: timedelta
) -> Invite:
    """An invite for one official of the unit's organisation, in the unit's plan."""
    return _new_invite(
        session,
        plan_id=unit.plan_id,
        organisation_id=unit.organisation_id,
        created_by=created_by,
        now=now,
        ttl=ttl,
    )


def create_link_code(
    session: Session,
    *,
    focal_point_id: int,
    organisation_id: int,
    created_by: str,
    now: datetime,
    ttl: timedelta,
) -> Invite:
    """A single-use code that adds another channel account to an existing focal point (of
    ``organisation_id``).

    It is an invite whose focal point is set before it is used.
    """
    return _new_invite(
        session,
        plan_id=None,
        organisation_id=organisation_id,
        focal_point_id=focal_point_id,
        created_by=created_by,
        now=now,
        ttl=ttl,
    )


def _new_invite(
    session: Session,
    *,
    plan_id: int | None,
    organisation_id: int,
    created_by: str,
    now: datetime,
    ttl: timedelta,
    focal_point_id: int | None = None,
) -> Invite:
    invite = Invite(
        plan_id=plan_id,
        organisation_id=organisation_id,
        code=new_invite_code(),
        created_by=created_by,
        created_at=now,
        expires_at=now + ttl,
        focal_point_id=focal_point_id,
    )
    session.add(invite)
    session.flush()
    return invite


def invite_by_code(session: Session, code: str) -> Invite | None:
    return session.exec(select(Invite).where(Invite.code == code)).first()


def claim_invite(
    session: Session, *, invite: Invite, channel: str, user_id: str, now: datetime
) -> bool:
    """Bind an invite to the first user who opens it; False if someone else holds it."""
    if invite.claimed_user_id is not None:
        return invite.claimed_channel == channel and invite.claimed_user_id == user_id
    result = session.execute(
        sa.update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.claimed_user_id).is_(None))
        .values(claimed_channel=channel, claimed_user_id=user_id, claimed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    session.refresh(invite)
    return True


def release_invite_claim(session: Session, *, invite_id: int, channel: str, user_id: str) -> None:
    """Give an opened but unused invite back (the user cancelled registration)."""
    session.execute(
        sa.update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.claimed_channel) == channel,
            col(Invite.claimed_user_id) == user_id,
            col(Invite.used_at).is_(None),
        )
        .values(claimed_channel=None, claimed_user_id=None, claimed_at=None)
    )
