"""The tables of nhacviec.

Every timestamp is stored as UTC. SQLite drops offsets, so :class:`UTCDateTime` turns what it
reads back into an aware UTC datetime; callers always see aware values.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _enum_column(enum_type: type[enum.Enum]) -> sa.Enum:
    """A portable enum column: a VARCHAR holding the member's value."""
    return sa.Enum(
        enum_type,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class ReportStatus(enum.StrEnum):
    """What a focal point says about the agency's work for one report deadline."""

    NOT_STARTED = "chua_trien_khai"
    IN_PROGRESS = "dang_trien_khai"
    DONE = "hoan_thanh"
    BLOCKED = "vuong_mac"

    @property
    def label(self) -> str:
        """What focal points and coordinators call it."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    ReportStatus.NOT_STARTED: "Chưa triển khai",
    ReportStatus.IN_PROGRESS: "Đang triển khai",
    ReportStatus.DONE: "Hoàn thành",
    ReportStatus.BLOCKED: "Gặp vướng mắc",
}


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # final: the recipient blocked the bot
    FAILED = "failed"  # final: rejected or out of retries


class Plan(SQLModel, table=True):
    __tablename__ = "plans"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    number: str = Field(max_length=64)
    title: str = Field(max_length=500)
    issuer: str = Field(max_length=200)
    province: str = Field(max_length=100)
    issued_on: date
    timezone: str = Field(max_length=64)
    source_file: str = Field(max_length=500)
    loaded_at: datetime = Field(sa_type=UTCDateTime)


class PlanSection(SQLModel, table=True):
    """A numbered item of the plan (II.x or IV.x). Units can be added to an open one."""

    __tablename__ = "plan_sections"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "section", name="uq_plan_sections_plan_section"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    section: str = Field(max_length=16)
    heading: str = Field(sa_type=sa.Text)
    kind: str = Field(max_length=32)
    is_open: bool = False


class Agency(SQLModel, table=True):
    """A responsible unit of the plan (one item of section IV, or one unit of it)."""

    __tablename__ = "agencies"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_agencies_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    short_name: str = Field(max_length=100)
    section: str = Field(max_length=16)
    kind: str = Field(max_length=32)
    position: int = 0
    is_coordinator: bool = False
    added_by_coordinator: bool = False
    active: bool = True


class Task(SQLModel, table=True):
    """One bullet of the plan: a cross-cutting task (II.x) or a unit's task (IV.x)."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "section", "ordinal", name="uq_tasks_plan_section"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    section: str = Field(max_length=16)
    ordinal: int
    heading: str = Field(sa_type=sa.Text)
    text: str = Field(sa_type=sa.Text)


class Deadline(SQLModel, table=True):
    """A report every reporting agency owes the coordinator before ``due_before``."""

    __tablename__ = "deadlines"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_deadlines_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=32)
    title: str = Field(max_length=200)
    due_before: date


class Campaign(SQLModel, table=True):
    """A period of concerted action, such as the Action Month."""

    __tablename__ = "campaigns"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_campaigns_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=32)
    section: str = Field(max_length=16)
    title: str = Field(max_length=300)
    starts_on: date
    ends_on: date


class FocalPoint(SQLModel, table=True):
    """An official (cán bộ đầu mối) who answers for one agency."""

    __tablename__ = "focal_points"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agencies.id", index=True)
    full_name: str = Field(max_length=100)
    position: str = Field(max_length=100)
    phone: str = Field(max_length=20)
    registered_at: datetime = Field(sa_type=UTCDateTime)
    active: bool = True


class ChannelAccount(SQLModel, table=True):
    """Where a focal point can be reached: one user on one channel (Telegram, Zalo, console)."""

    __tablename__ = "channel_accounts"
    __table_args__ = (
        sa.UniqueConstraint("channel", "user_id", name="uq_channel_accounts_channel_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    focal_point_id: int = Field(foreign_key="focal_points.id", index=True)
    channel: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A single-use, expiring code that lets one official register for one agency."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agencies.id", index=True)
    code: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    claimed_channel: str | None = Field(default=None, max_length=16)
    claimed_user_id: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    focal_point_id: int | None = Field(default=None, foreign_key="focal_points.id")


class DialogState(SQLModel, table=True):
    """Where one user is in a conversation; kept in the database so restarts resume it."""

    __tablename__ = "dialog_states"
    __table_args__ = (
        sa.UniqueConstraint("channel", "user_id", name="uq_dialog_states_channel_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    token: str = Field(max_length=16)
    data: str = Field(default="{}", sa_type=sa.Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class StatusUpdate(SQLModel, table=True):
    """One report of an agency for one deadline. Append-only: the latest row is the state."""

    __tablename__ = "status_updates"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agencies.id", index=True)
    deadline_id: int = Field(foreign_key="deadlines.id", index=True)
    focal_point_id: int | None = Field(default=None, foreign_key="focal_points.id")
    channel: str = Field(max_length=16)
    status: ReportStatus = Field(sa_type=_enum_column(ReportStatus))
    progress: int
    note: str | None = Field(default=None, sa_type=sa.Text)
    file_channel: str | None = Field(default=None, max_length=16)
    file_id: str | None = Field(default=None, max_length=2000)  # Zalo: the photo's URL
    file_name: str | None = Field(default=None, max_length=300)
    file_size: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes someone. ``key`` is unique: (rule, occurrence, recipient)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    focal_point_id: int | None = Field(default=None, foreign_key="focal_points.id")
    rule: str = Field(max_length=64)
    text: str = Field(sa_type=sa.Text)
    buttons: str | None = Field(default=None, sa_type=sa.Text)
    state: OutboxState = Field(
        default=OutboxState.PENDING, sa_type=_enum_column(OutboxState), index=True
    )
    attempts: int = 0
    pieces_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
