"""Named queries and data operations. Each takes the session first and keywords after it."""

from __future__ import annotations

import secrets
import string
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import (
    Agency,
    Campaign,
    ChannelAccount,
    Deadline,
    DialogState,
    FocalPoint,
    Invite,
    OutboxMessage,
    OutboxState,
    Plan,
    PlanSection,
    StatusUpdate,
    Task,
)

INVITE_CODE_ALPHABET = string.ascii_letters + string.digits
INVITE_CODE_LENGTH = 22  # 22 × log2(62) ≈ 131 bits of randomness


# --- plan -----------------------------------------------------------------------------------


def plan_by_code(session: Session, code: str) -> Plan | None:
    return session.exec(select(Plan).where(Plan.code == code)).first()


def due_at(due_before: date, zone: ZoneInfo) -> datetime:
    """The instant a report becomes late: the start of the ``due_before`` day, local time."""
    return datetime.combine(due_before, time(0, 0), tzinfo=zone)


def agencies(
    session: Session, *, plan_id: int, reporting_only: bool = False, active_only: bool = True
) -> list[Agency]:
    """The plan's agencies in plan order; ``reporting_only`` leaves out the coordinator."""
    query = select(Agency).where(Agency.plan_id == plan_id)
    if active_only:
        query = query.where(col(Agency.active).is_(True))
    if reporting_only:
        query = query.where(col(Agency.is_coordinator).is_(False))
    return list(session.exec(query.order_by(col(Agency.position), col(Agency.id))))


def open_sections(session: Session, *, plan_id: int) -> list[PlanSection]:
    """Sections the coordinator may add units to (IV.14 of the seed plan)."""
    return list(
        session.exec(
            select(PlanSection)
            .where(PlanSection.plan_id == plan_id, col(PlanSection.is_open).is_(True))
            .order_by(col(PlanSection.id))
        )
    )


def sections(session: Session, *, plan_id: int) -> list[PlanSection]:
    """The plan's numbered items in file order (II.x first, then IV.x)."""
    return list(
        session.exec(
            select(PlanSection).where(PlanSection.plan_id == plan_id).order_by(col(PlanSection.id))
        )
    )


def agency_by_code(session: Session, *, plan_id: int, code: str) -> Agency | None:
    return session.exec(
        select(Agency).where(
            Agency.plan_id == plan_id, Agency.code == code.strip().upper(), col(Agency.active)
        )
    ).first()


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def tasks_of_section(session: Session, *, plan_id: int, section: str) -> list[Task]:
    return list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan_id, Task.section == section)
            .order_by(col(Task.ordinal))
        )
    )


def cross_cutting_tasks(session: Session, *, plan_id: int) -> list[Task]:
    return [
        task
        for task in session.exec(
            select(Task)
            .where(Task.plan_id == plan_id, col(Task.section).startswith("II."))
            .order_by(col(Task.id))
        )
    ]


def deadlines(session: Session, *, plan_id: int) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline).where(Deadline.plan_id == plan_id).order_by(col(Deadline.due_before))
        )
    )


def next_open_deadline(session: Session, *, plan: Plan, now: datetime) -> Deadline | None:
    """The first deadline not yet passed at ``now``."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    return next(
        (d for d in deadlines(session, plan_id=plan.id) if due_at(d.due_before, zone) > now),
        None,
    )


def coordinator_agency(session: Session, *, plan_id: int) -> Agency | None:
    """The unit that leads the plan and receives the reports."""
    return session.exec(
        select(Agency).where(Agency.plan_id == plan_id, col(Agency.is_coordinator).is_(True))
    ).first()


def deadline_by_code(session: Session, *, plan_id: int, code: str) -> Deadline | None:
    return session.exec(
        select(Deadline).where(Deadline.plan_id == plan_id, Deadline.code == code)
    ).first()


def campaigns(session: Session, *, plan_id: int) -> list[Campaign]:
    return list(
        session.exec(
            select(Campaign).where(Campaign.plan_id == plan_id).order_by(col(Campaign.starts_on))
        )
    )


def agency_code_from_name(name: str) -> str:
    """An agency code made of the initials of a Vietnamese name: "Sở Công Thương" → "SCT"."""
    ascii_name = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = "".join(ch for ch in ascii_name if unicodedata.category(ch) != "Mn")
    words = [word for word in "".join(ch if ch.isalnum() else " " for ch in ascii_name).split()]
    initials = "".join(word[0] for word in words).upper()
    code = initials if initials[:1].isalpha() else "DV" + initials
    return code[:24] if len(code) >= 2 else (code + "DV")[:24]


def add_agency_to_open_section(
    session: Session, *, plan_id: int, section: str, kind: str, name: str, short_name: str
) -> Agency:
    """Add a unit the coordinator named to an open section (IV.14 of the seed plan)."""
    base = agency_code_from_name(name)
    code, suffix = base, 1
    while session.exec(
        select(Agency).where(Agency.plan_id == plan_id, Agency.code == code)
    ).first():
        suffix += 1
        code = f"{base}{suffix}"
    last = session.exec(select(func.max(Agency.position)).where(Agency.plan_id == plan_id)).one()
    agency = Agency(
        plan_id=plan_id,
        code=code,
        name=name,
        short_name=short_name,
        section=section,
        kind=kind,
        position=(last or 0) + 1,
        added_by_coordinator=True,
    )
    session.add(agency)
    session.flush()
    return agency


# --- focal points and their channel accounts -------------------------------------------------


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


# --- invites -----------------------------------------------------------------------------------


def new_invite_code() -> str:
    """Letters and digits only: safe in a deep link and easy to copy from a chat."""
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def create_invite(
    session: Session, *, agency: Agency, created_by: str, now: datetime, ttl: timedelta
) -> Invite:
    assert agency.id is not None
    return _new_invite(session, agency_id=agency.id, created_by=created_by, now=now, ttl=ttl)


def create_link_code(
    session: Session, *, focal_point: FocalPoint, created_by: str, now: datetime, ttl: timedelta
) -> Invite:
    """A single-use code that adds another channel account to an existing focal point.

    It is an invite whose focal point is set before it is used.
    """
    assert focal_point.id is not None
    return _new_invite(
        session,
        agency_id=focal_point.agency_id,
        focal_point_id=focal_point.id,
        created_by=created_by,
        now=now,
        ttl=ttl,
    )


def _new_invite(
    session: Session,
    *,
    agency_id: int,
    created_by: str,
    now: datetime,
    ttl: timedelta,
    focal_point_id: int | None = None,
) -> Invite:
    invite = Invite(
        agency_id=agency_id,
        code=new_invite_code(),
        created_by=created_by,
        created_at=now,
        expires_at=now + ttl,
        focal_point_id=focal_point_id,
    )
    session.add(invite)
    session.flush()
    return invite


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


# --- dialog state ------------------------------------------------------------------------------


def dialog_state(session: Session, *, channel: str, user_id: str) -> DialogState | None:
    return session.exec(
        select(DialogState).where(DialogState.channel == channel, DialogState.user_id == user_id)
    ).first()


def clear_dialog_state(session: Session, *, channel: str, user_id: str) -> None:
    state = dialog_state(session, channel=channel, user_id=user_id)
    if state is not None:
        session.delete(state)


# --- status updates ----------------------------------------------------------------------------


def record_status_update(session: Session, update: StatusUpdate) -> StatusUpdate:
    """Append a status update. Rows are never changed afterwards."""
    session.add(update)
    session.flush()
    return update


def status_update_by_id(session: Session, update_id: int) -> StatusUpdate | None:
    return session.get(StatusUpdate, update_id)


def status_history(
    session: Session, *, agency_id: int, limit: int | None = None
) -> list[StatusUpdate]:
    """An agency's status updates, newest first."""
    query = (
        select(StatusUpdate)
        .where(StatusUpdate.agency_id == agency_id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def all_status_updates(session: Session, *, plan_id: int) -> list[StatusUpdate]:
    return list(
        session.exec(
            select(StatusUpdate)
            .join(Deadline, col(Deadline.id) == StatusUpdate.deadline_id)
            .where(Deadline.plan_id == plan_id)
            .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
        )
    )


def latest_status_updates(session: Session, *, plan_id: int) -> dict[tuple[int, int], StatusUpdate]:
    """The latest status update of every (agency, deadline) pair that has one."""
    latest: dict[tuple[int, int], StatusUpdate] = {}
    for update in all_status_updates(session, plan_id=plan_id):
        latest[(update.agency_id, update.deadline_id)] = update
    return latest


def first_report_times(session: Session, *, plan_id: int) -> dict[tuple[int, int], datetime]:
    """When each (agency, deadline) pair first reported: that decides "on time"."""
    rows = session.exec(
        select(StatusUpdate.agency_id, StatusUpdate.deadline_id, func.min(StatusUpdate.created_at))
        .join(Deadline, col(Deadline.id) == StatusUpdate.deadline_id)
        .where(Deadline.plan_id == plan_id)
        .group_by(col(StatusUpdate.agency_id), col(StatusUpdate.deadline_id))
    )
    result: dict[tuple[int, int], datetime] = {}
    for agency_id, deadline_id, first in rows:
        # min() keeps the column type, so values come back aware; be safe with drivers anyway
        result[(agency_id, deadline_id)] = first if first.tzinfo else first.replace(tzinfo=UTC)
    return result


def agencies_reported(session: Session, *, deadline_id: int) -> set[int]:
    return set(
        session.exec(
            select(StatusUpdate.agency_id).where(StatusUpdate.deadline_id == deadline_id).distinct()
        )
    )


def agencies_updated_since(session: Session, *, plan_id: int, since: datetime) -> set[int]:
    return set(
        session.exec(
            select(StatusUpdate.agency_id)
            .join(Agency, col(Agency.id) == StatusUpdate.agency_id)
            .where(Agency.plan_id == plan_id, col(StatusUpdate.created_at) >= since)
            .distinct()
        )
    )


# --- the overview: agencies × deadlines --------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One agency's state for one deadline."""

    latest: StatusUpdate | None
    first_reported_at: datetime | None
    overdue: bool  # past the deadline and nothing reported

    @property
    def reported(self) -> bool:
        return self.latest is not None


@dataclass(frozen=True)
class DeadlineStats:
    deadline: Deadline
    due_at: datetime
    total: int
    reported: int
    on_time: int
    late: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.reported / self.total if self.total else 0.0


@dataclass(frozen=True)
class OverviewRow:
    agency: Agency
    focal_point_count: int
    cells: dict[int, Cell]


@dataclass(frozen=True)
class Overview:
    plan: Plan
    now: datetime
    deadlines: list[Deadline]
    rows: list[OverviewRow]
    stats: list[DeadlineStats] = field(default_factory=list)


def overview(session: Session, *, plan: Plan, now: datetime) -> Overview:
    """The reporting matrix: every reporting agency against every deadline."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    plan_deadlines = deadlines(session, plan_id=plan.id)
    rows_agencies = agencies(session, plan_id=plan.id, reporting_only=True)
    latest = latest_status_updates(session, plan_id=plan.id)
    first = first_report_times(session, plan_id=plan.id)
    counts = focal_point_counts(session, agency_ids=[a.id for a in rows_agencies if a.id])
    rows: list[OverviewRow] = []
    for agency in rows_agencies:
        assert agency.id is not None
        cells: dict[int, Cell] = {}
        for deadline in plan_deadlines:
            assert deadline.id is not None
            update = latest.get((agency.id, deadline.id))
            cells[deadline.id] = Cell(
                latest=update,
                first_reported_at=first.get((agency.id, deadline.id)),
                overdue=update is None and now >= due_at(deadline.due_before, zone),
            )
        rows.append(
            OverviewRow(agency=agency, focal_point_count=counts.get(agency.id, 0), cells=cells)
        )
    stats = []
    for deadline in plan_deadlines:
        assert deadline.id is not None
        deadline_due = due_at(deadline.due_before, zone)
        column = [row.cells[deadline.id] for row in rows]
        on_time = sum(
            1
            for c in column
            if c.first_reported_at is not None and c.first_reported_at < deadline_due
        )
        reported = sum(1 for c in column if c.reported)
        stats.append(
            DeadlineStats(
                deadline=deadline,
                due_at=deadline_due,
                total=len(column),
                reported=reported,
                on_time=on_time,
                late=reported - on_time,
                overdue=sum(1 for c in column if c.overdue),
            )
        )
    return Overview(plan=plan, now=now, deadlines=plan_deadlines, rows=rows, stats=stats)


def focal_point_counts(session: Session, *, agency_ids: Sequence[int]) -> dict[int, int]:
    if not agency_ids:
        return {}
    rows = session.exec(
        select(FocalPoint.agency_id, func.count(col(FocalPoint.id)))
        .where(col(FocalPoint.agency_id).in_(agency_ids), col(FocalPoint.active).is_(True))
        .group_by(col(FocalPoint.agency_id))
    )
    return {agency_id: count for agency_id, count in rows}


# --- outbox ------------------------------------------------------------------------------------


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
