"""Focal points and the channel accounts they are reached on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import (
    Agency,
    ChannelAccount,
    FocalPoint,
    Invite,
)


@dataclass(frozen=True)
class Membership:
    """Who a channel user is: an active focal point of one agency."""

    focal_point: FocalPoint
    agency: Agency
    account: ChannelAccount


def membership(session: Session, *, channel: str, user_id: str) -> Membership | None:
    row = session.exec(
        select(ChannelAccount, FocalPoint, Agency)
        .join(FocalPoint, col(FocalPoint.id) == ChannelAccount.focal_point_id)
        .join(Agency, col(Agency.id) == FocalPoint.agency_id)
        .where(
            ChannelAccount.channel == channel,
            ChannelAccount.user_id == user_id,
            col(FocalPoint.active).is_(True),
            col(Agency.active).is_(True),  # a unit the plan no longer has: no longer a member
        )
    ).first()
    if row is None:
        return None
    account, focal_point, agency = row
    return Membership(focal_point=focal_point, agency=agency, account=account)


def register_focal_point(
    session: Session,
    *,
    invite: Invite,
    channel: str,
    user_id: str,
    chat_id: str,
    display_name: str,
    full_name: str,
    position: str,
    phone: str,
    now: datetime,
) -> FocalPoint:
    """Create the focal point and their channel account; the invite is used up."""
    focal_point = FocalPoint(
        agency_id=invite.agency_id,
        full_name=full_name,
        position=position,
        phone=phone,
        registered_at=now,
    )
    session.add(focal_point)
    session.flush()
    assert focal_point.id is not None
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.user_id == user_id
        )
    ).first()
    if account is None:
        account = ChannelAccount(
            focal_point_id=focal_point.id,
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            display_name=display_name,
            created_at=now,
        )
    else:  # an account of a focal point who was deactivated moves to the new registration
        account.focal_point_id = focal_point.id
        account.chat_id, account.display_name, account.blocked_at = chat_id, display_name, None
    session.add(account)
    invite.used_at = now
    invite.focal_point_id = focal_point.id
    session.add(invite)
    session.flush()
    return focal_point


def focal_points_of(session: Session, *, agency_ids: Iterable[int]) -> list[FocalPoint]:
    ids = list(agency_ids)
    if not ids:
        return []
    return list(
        session.exec(
            select(FocalPoint)
            .where(col(FocalPoint.agency_id).in_(ids), col(FocalPoint.active).is_(True))
            .order_by(col(FocalPoint.id))
        )
    )


def accounts_of(
    session: Session, *, focal_point_ids: Iterable[int], reachable_only: bool = True
) -> list[ChannelAccount]:
    ids = list(focal_point_ids)
    if not ids:
        return []
    query = select(ChannelAccount).where(col(ChannelAccount.focal_point_id).in_(ids))
    if reachable_only:
        query = query.where(col(ChannelAccount.blocked_at).is_(None))
    return list(session.exec(query.order_by(col(ChannelAccount.id))))


def mark_chat_blocked(session: Session, *, channel: str, chat_id: str, now: datetime) -> None:
    for account in session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.chat_id == chat_id
        )
    ):
        account.blocked_at = now
        session.add(account)


def mark_user_reachable(session: Session, *, channel: str, user_id: str) -> None:
    """A user who writes to the bot again has unblocked it."""
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel,
            ChannelAccount.user_id == user_id,
            col(ChannelAccount.blocked_at).is_not(None),
        )
    ).first()
    if account is not None:
        account.blocked_at = None
        session.add(account)


def link_channel_account(
    session: Session,
    *,
    invite: Invite,
    channel: str,
    user_id: str,
    chat_id: str,
    display_name: str,
    now: datetime,
) -> ChannelAccount:
    """Use a link code: this channel user becomes one more account of the code's focal point."""
    assert invite.focal_point_id is not None and invite.used_at is None
    account = ChannelAccount(
        focal_point_id=invite.focal_point_id,
        channel=channel,
        user_id=user_id,
        chat_id=chat_id,
        display_name=display_name,
        created_at=now,
    )
    session.add(account)
    invite.claimed_channel, invite.claimed_user_id, invite.claimed_at = channel, user_id, now
    invite.used_at = now
    session.add(invite)
    session.flush()
    return account


def focal_point_counts(session: Session, *, agency_ids: Sequence[int]) -> dict[int, int]:
    if not agency_ids:
        return {}
    rows = session.exec(
        select(FocalPoint.agency_id, func.count(col(FocalPoint.id)))
        .where(col(FocalPoint.agency_id).in_(agency_ids), col(FocalPoint.active).is_(True))
        .group_by(col(FocalPoint.agency_id))
    )
    return {agency_id: count for agency_id, count in rows}
