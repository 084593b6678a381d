"""People: focal points, the plans they answer in, and the channel accounts they use.

A focal point answers for one organisation; a plan membership says whether they do so in a
given plan (joined, or declined when asked). Each function takes the session first.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.models import (
    ChannelAccount,
    FocalPoint,
    Invite,
    MembershipState,
    Organisation,
    PlanMembership,
    PlanUnit,
)

# A row per plan the focal point joined (see membership): the focal point's id and name, its
# organisation's id and name, whether the account is blocked, the plan, the plan's unit.
MembershipQuery = sa.Select[int | None, str, int | None, str, bool, int, int | None]


@dataclass(frozen=True)
class Membership:
    """Who a channel user is: an active focal point of one organisation, and the plans in which
    they answer for it (the organisation still a unit of each). Plain values, read on every
    update: three ORM objects a turn cost more than the rest of the query."""

    focal_point_id: int
    full_name: str
    organisation_id: int
    organisation_name: str
    blocked: bool = False  # the account blocked the bot: it is not written to
    plan_ids: tuple[int, ...] = field(default=())


def membership(session: Session, *, channel: str, user_id: str) -> Membership | None:
    """The focal point behind a channel user; None when they answer in no plan any more (their
    organisation left every plan they joined): they may then register anew.

    One query (it runs on every update): a row per plan they joined, the plan's unit of their
    organisation beside it when that unit is still active (a plan it left does not count)."""
    rows = (
        session.connection()
        .execute(_membership_statement(), {"channel": channel, "user_id": user_id})
        .all()
    )
    plan_ids = tuple(plan_id for *_, plan_id, unit_id in rows if plan_id and unit_id is not None)
    if not plan_ids:
        return None
    focal_point_id, full_name, organisation_id, organisation_name, blocked, _, _ = rows[0]
    assert focal_point_id is not None and organisation_id is not None
    return Membership(
        focal_point_id, full_name, organisation_id, organisation_name, bool(blocked), plan_ids
    )


@functools.cache
def _membership_statement() -> MembershipQuery:
    """Built once: it runs on every update, and building it costs more than running it."""
    unit = sa.and_(
        col(PlanUnit.plan_id) == PlanMembership.plan_id,
        col(PlanUnit.organisation_id) == Organisation.id,
        col(PlanUnit.active).is_(True),
    )
    return (
        sa.select(
            col(FocalPoint.id),
            col(FocalPoint.full_name),
            col(Organisation.id),
            col(Organisation.name),
            col(ChannelAccount.blocked_at).is_not(None),
            col(PlanMembership.plan_id),
            col(PlanUnit.id),
        )
        .join(FocalPoint, col(FocalPoint.id) == ChannelAccount.focal_point_id)
        .join(Organisation, col(Organisation.id) == FocalPoint.organisation_id)
        .outerjoin(
            PlanMembership,
            sa.and_(
                col(PlanMembership.focal_point_id) == FocalPoint.id,
                col(PlanMembership.state) == MembershipState.JOINED,
            ),
        )
        .outerjoin(PlanUnit, unit)
        .where(
            col(ChannelAccount.channel) == sa.bindparam("channel"),
            col(ChannelAccount.user_id) == sa.bindparam("user_id"),
            col(FocalPoint.active).is_(True),
        )
        .order_by(col(PlanMembership.plan_id))
    )


def decide_membership(
    session: Session, *, focal_point_id: int, plan_id: int, state: MembershipState, now: datetime
) -> PlanMembership:
    """Record that the focal point joins (or declines) the plan; a later answer replaces one."""
    row = session.exec(
        select(PlanMembership).where(
            PlanMembership.focal_point_id == focal_point_id, PlanMembership.plan_id == plan_id
        )
    ).first()
    if row is None:
        row = PlanMembership(
            focal_point_id=focal_point_id, plan_id=plan_id, state=state, decided_at=now
        )
    row.state, row.decided_at = state, now
    session.add(row)
    session.flush()
    return row


def membership_state(
    session: Session, *, focal_point_id: int, plan_id: int
) -> MembershipState | None:
    row = session.exec(
        select(PlanMembership).where(
            PlanMembership.focal_point_id == focal_point_id, PlanMembership.plan_id == plan_id
        )
    ).first()
    return MembershipState(row.state) if row is not None else None


def undecided_focal_points(session: Session, *, plan_id: int) -> list[FocalPoint]:
    """Active focal points of the plan's organisations who were never asked about the plan."""
    asked = select(PlanMembership.focal_point_id).where(PlanMembership.plan_id == plan_id)
    return list(
        session.exec(
            select(FocalPoint)
            .join(PlanUnit, col(PlanUnit.organisation_id) == FocalPoint.organisation_id)
            .where(
                PlanUnit.plan_id == plan_id,
                col(PlanUnit.active).is_(True),
                col(FocalPoint.active).is_(True),
                col(FocalPoint.id).not_in(asked),
            )
            .order_by(col(FocalPoint.id))
        )
    )


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
    """Create the focal point, their channel account and their membership of the invite's
    plan; the invite is used up."""
    focal_point = FocalPoint(
        organisation_id=invite.organisation_id,
        full_name=full_name,
        position=position,
        phone=phone,
        registered_at=now,
    )
    session.add(focal_point)
    session.flush()
    assert focal_point.id is not None
    _move_account(
        session,
        focal_point_id=focal_point.id,
        channel=channel,
        user_id=user_id,
        chat_id=chat_id,
        display_name=display_name,
        now=now,
    )
    if invite.plan_id is not None:
        decide_membership(
            session,
            focal_point_id=focal_point.id,
            plan_id=invite.plan_id,
            state=MembershipState.JOINED,
            now=now,
        )
    invite.used_at = now
    invite.focal_point_id = focal_point.id
    session.add(invite)
    session.flush()
    return focal_point


def _move_account(
    session: Session,
    *,
    focal_point_id: int,
    channel: str,
    user_id: str,
    chat_id: str,
    display_name: str,
    now: datetime,
) -> ChannelAccount:
    """The channel user becomes an account of the focal point (an account of a focal point who
    no longer answers anywhere moves to the new registration)."""
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.user_id == user_id
        )
    ).first()
    if account is None:
        account = ChannelAccount(
            focal_point_id=focal_point_id,
            channel=channel,
            user_id=user_id,
            chat_id=chat_id,
            display_name=display_name,
            created_at=now,
        )
    account.focal_point_id = focal_point_id
    account.chat_id, account.display_name, account.blocked_at = chat_id, display_name, None
    session.add(account)
    return account


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
    """Use a link code: this channel user becomes one more account of the code's focal point
    (an account the bot knew already, of a focal point who no longer serves, moves over)."""
    assert invite.focal_point_id is not None and invite.used_at is None
    account = _move_account(
        session,
        focal_point_id=invite.focal_point_id,
        channel=channel,
        user_id=user_id,
        chat_id=chat_id,
        display_name=display_name,
        now=now,
    )
    invite.claimed_channel, invite.claimed_user_id, invite.claimed_at = channel, user_id, now
    invite.used_at = now
    session.add(invite)
    session.flush()
    return account


def focal_points_of(
    session: Session, *, organisation_ids: Iterable[int], plan_id: int | None = None
) -> list[FocalPoint]:
    """Active focal points of the organisations (who joined ``plan_id``, when given)."""
    ids = list(organisation_ids)
    if not ids:
        return []
    query = select(FocalPoint).where(
        col(FocalPoint.organisation_id).in_(ids), col(FocalPoint.active).is_(True)
    )
    if plan_id is not None:
        query = query.join(
            PlanMembership,
            sa.and_(
                col(PlanMembership.focal_point_id) == FocalPoint.id,
                col(PlanMembership.plan_id) == plan_id,
                col(PlanMembership.state) == MembershipState.JOINED.value,
            ),
        )
    return list(session.exec(query.order_by(col(FocalPoint.id))))


def focal_point_counts(
    session: Session, *, plan_id: int, organisation_ids: Iterable[int]
) -> dict[int, int]:
    """How many active focal points answer for each organisation in the plan."""
    ids = list(organisation_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(FocalPoint.organisation_id, func.count(col(FocalPoint.id)))
        .join(PlanMembership, col(PlanMembership.focal_point_id) == FocalPoint.id)
        .where(
            col(FocalPoint.organisation_id).in_(ids),
            col(FocalPoint.active).is_(True),
            PlanMembership.plan_id == plan_id,
            PlanMembership.state == MembershipState.JOINED,
        )
        .group_by(col(FocalPoint.organisation_id))
    )
    return {organisation_id: count for organisation_id, count in rows}


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


def organisation_by_id(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)
