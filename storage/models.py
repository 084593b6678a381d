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


class PlanStatus(enum.StrEnum):
    """Where a plan is in its life: only an active plan reminds anyone."""

    DRAFT = "draft"  # being written or imported: never reminds
    ACTIVE = "active"
    ENDED = "ended"  # its history stays, it reminds no more
    ARCHIVED = "archived"  # as ended, and no longer offered in pickers

    @property
    def label(self) -> str:
        return _PLAN_STATUS_LABELS[self]


_PLAN_STATUS_LABELS = {
    PlanStatus.DRAFT: "bản nháp",
    PlanStatus.ACTIVE: "đang thực hiện",
    PlanStatus.ENDED: "đã kết thúc",
    PlanStatus.ARCHIVED: "đã lưu trữ",
}


class MembershipState(enum.StrEnum):
    JOINED = "joined"  # the focal point answers for their organisation in this plan
    DECLINED = "declined"  # asked, and said someone else does


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
    status: PlanStatus = Field(
        default=PlanStatus.ACTIVE,
        sa_type=_enum_column(PlanStatus),
        sa_column_kwargs={"server_default": PlanStatus.ACTIVE.value},
    )
    example: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    starts_on: date | None = None
    ends_on: date | None = None


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


class Organisation(SQLModel, table=True):
    """An agency (Sở Y tế, UBND xã X): it exists once, whatever plans name it."""

    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    short_name: str = Field(max_length=100)
    kind: str = Field(max_length=32)


class PlanUnit(SQLModel, table=True):
    """An organisation as one plan names it: a unit of one item of section IV."""

    __tablename__ = "plan_units"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "organisation_id", name="uq_plan_units_plan_organisation"),
        sa.UniqueConstraint("plan_id", "code", name="uq_plan_units_plan_code"),
        sa.Index(  # the overview's counts: units grouped and joined to reports from the index
            "ix_plan_units_plan_reporting",
            "plan_id",
            "organisation_id",
            "active",
            "is_coordinator",
            "kind",
            "section",
            "code",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    code: str = Field(max_length=32)  # the organisation's code, kept beside it for lookups
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
    ordinal: int  # a task the plan file dropped but reports spoke of keeps -id: its slot is free
    heading: str = Field(sa_type=sa.Text)
    text: str = Field(sa_type=sa.Text)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class ReportingPeriod(SQLModel, table=True):
    """One report the plan's units owe the coordinator ("Báo cáo năm 2024").

    ``due_before`` is the first day that is late, whatever the plan's wording: "trước ngày 10/6"
    is 10/06, "chậm nhất ngày 15/3" is 16/03; ``due_text`` keeps the wording. ``unit_codes``
    (a JSON list) names the units that owe it when not all do.
    """

    __tablename__ = "reporting_periods"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "code", name="uq_reporting_periods_plan_code"),
        sa.UniqueConstraint("plan_id", "id", name="uq_reporting_periods_plan_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=64)
    series: str = Field(max_length=64)
    title: str = Field(max_length=300)
    due_before: date
    due_text: str = Field(max_length=100)
    covers_from: date | None = None
    covers_to: date | None = None
    unit_codes: str | None = Field(default=None, sa_type=sa.Text)


class Campaign(SQLModel, table=True):
    """A period of concerted action, such as one year's Action Month."""

    __tablename__ = "campaigns"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_campaigns_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=64)
    series: str = Field(max_length=64)
    section: str = Field(max_length=16)
    title: str = Field(max_length=300)
    starts_on: date
    ends_on: date
    checkins: bool = True
    result_period: str | None = Field(default=None, max_length=64)


class Indicator(SQLModel, table=True):
    """A number the plan sets a target for ("Tỷ lệ nữ cán bộ lãnh đạo" ≥ 30 %)."""

    __tablename__ = "indicators"
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_indicators_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=300)
    unit: str = Field(max_length=20)
    target: float
    direction: str = Field(max_length=16)  # at-least | at-most
    position: int = 0
    unit_codes: str | None = Field(default=None, sa_type=sa.Text)  # JSON list: who reports it
    series: str | None = Field(default=None, sa_type=sa.Text)  # JSON list: in which reports


class FocalPoint(SQLModel, table=True):
    """An official (cán bộ đầu mối) who answers for one organisation, in one or more plans."""

    __tablename__ = "focal_points"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    full_name: str = Field(max_length=100)
    position: str = Field(max_length=100)
    phone: str = Field(max_length=20)
    registered_at: datetime = Field(sa_type=UTCDateTime)
    active: bool = True


class PlanMembership(SQLModel, table=True):
    """Whether a focal point answers for their organisation in one plan."""

    __tablename__ = "plan_memberships"
    __table_args__ = (
        sa.UniqueConstraint("focal_point_id", "plan_id", name="uq_plan_memberships_person_plan"),
        sa.Index("ix_plan_memberships_plan_state", "plan_id", "state", "focal_point_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    focal_point_id: int = Field(foreign_key="focal_points.id", index=True)
    plan_id: int = Field(foreign_key="plans.id", index=True)
    state: MembershipState = Field(sa_type=_enum_column(MembershipState))
    decided_at: datetime = Field(sa_type=UTCDateTime)


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
    """A single-use, expiring code: it registers one official for one organisation in one plan
    or, with ``focal_point_id`` set before use, links another account to a focal point."""

    __tablename__ = "invites"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["plan_id", "organisation_id"],
            ["plan_units.plan_id", "plan_units.organisation_id"],
            name="fk_invites_plan_unit",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, index=True)  # None for a link code
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
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
    """One report of an organisation for one reporting period of one plan. Append-only: the
    latest row is the state. The database makes sure the organisation takes part in the plan and
    the period is the plan's."""

    __tablename__ = "status_updates"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["plan_id", "organisation_id"],
            ["plan_units.plan_id", "plan_units.organisation_id"],
            name="fk_status_updates_plan_unit",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id", "period_id"],
            ["reporting_periods.plan_id", "reporting_periods.id"],
            name="fk_status_updates_plan_period",
        ),
        sa.Index("ix_status_updates_organisation_time", "organisation_id", "created_at"),
        # one unit's latest reports in a plan (/donvi, /tinhhinh, the agency page); the plan's
        # history in order (the export): see migration 0009
        sa.Index(
            "ix_status_updates_plan_organisation_time",
            "plan_id",
            "organisation_id",
            "created_at",
            "id",
        ),
        sa.Index("ix_status_updates_plan_time_id", "plan_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int  # the composite keys below make plan, organisation and period belong together
    organisation_id: int
    period_id: int = Field(index=True)
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


class IndicatorValue(SQLModel, table=True):
    """A value a report gives for one of the plan's indicators."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        sa.UniqueConstraint("status_update_id", "indicator_id", name="uq_indicator_values_report"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status_update_id: int = Field(foreign_key="status_updates.id", index=True)
    indicator_id: int = Field(foreign_key="indicators.id", index=True)
    value: float


class LatestReport(SQLModel, table=True):
    """The read model of reporting: per (plan, organisation, period) the latest report and when
    the first one came. Kept in the same transaction as every status update (see
    storage.reports.record_status_update), so the overview reads one row per cell."""

    __tablename__ = "latest_reports"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["plan_id", "organisation_id"],
            ["plan_units.plan_id", "plan_units.organisation_id"],
            name="fk_latest_reports_plan_unit",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id", "period_id"],
            ["reporting_periods.plan_id", "reporting_periods.id"],
            name="fk_latest_reports_plan_period",
        ),
        sa.Index("ix_latest_reports_plan_period", "plan_id", "period_id"),
        sa.Index(  # the problems reported (/quahan vuongmac, units needing attention)
            "ix_latest_reports_plan_status", "plan_id", "status", "period_id", "organisation_id"
        ),
    )

    plan_id: int = Field(primary_key=True)
    organisation_id: int = Field(primary_key=True)
    period_id: int = Field(primary_key=True)
    status_update_id: int = Field(foreign_key="status_updates.id")
    status: ReportStatus = Field(sa_type=_enum_column(ReportStatus))
    progress: int
    reported_at: datetime = Field(sa_type=UTCDateTime)  # the latest report's time
    first_reported_at: datetime = Field(sa_type=UTCDateTime)
    reports: int = 1


class RunState(enum.StrEnum):
    DONE = "done"  # its messages were queued
    DROPPED = "dropped"  # it was missed and obsolete by the time it could go out


class ReminderRun(SQLModel, table=True):
    """A reminder occurrence that has been dealt with: its messages queued (in the same
    transaction as this row) or dropped. The source of truth for "has it run": a job that
    vanished from the scheduler's store without this row has not."""

    __tablename__ = "reminder_runs"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "occurrence_key", name="uq_reminder_runs_plan_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id")
    occurrence_key: str = Field(max_length=128)
    state: RunState = Field(sa_type=_enum_column(RunState))
    at: datetime = Field(sa_type=UTCDateTime)
    queued: int = 0


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
    pictures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # see below
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxPicture(SQLModel, table=True):
    """A picture sent after an outbox message's text (the digest's charts), kept until the
    message is delivered or given up; ``OutboxMessage.pictures`` counts them."""

    __tablename__ = "outbox_pictures"
    __table_args__ = (
        sa.UniqueConstraint("outbox_id", "position", name="uq_outbox_pictures_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    position: int
    filename: str = Field(max_length=200)
    caption: str = Field(default="", sa_type=sa.Text)
    content: bytes = Field(sa_type=sa.LargeBinary)


class UsedLogin(SQLModel, table=True):
    """A login credential (a link's id, a hash of ``initData``) that has been used."""

    __tablename__ = "used_logins"

    key: str = Field(primary_key=True, max_length=80)
    used_at: datetime = Field(sa_type=UTCDateTime)
    # Past this the credential is refused anyway (expired), so the row may go.
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class TaskResult(SQLModel, table=True):
    """What one report says about one task of the plan: its status and, if given, a short
    result ("đã tổ chức 3 lớp tập huấn, 120 lượt người"). Written with the status update and
    never changed; a task the plan file no longer has is kept, retired, with its results."""

    __tablename__ = "task_results"
    __table_args__ = (
        sa.UniqueConstraint("status_update_id", "task_id", name="uq_task_results_report_task"),
    )

    id: int | None = Field(default=None, primary_key=True)
    status_update_id: int = Field(foreign_key="status_updates.id", index=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    status: ReportStatus = Field(sa_type=_enum_column(ReportStatus))
    result: str | None = Field(default=None, sa_type=sa.Text)


class ServiceLease(SQLModel, table=True):
    """Which instance leads the service on this database (PostgreSQL; see storage.lease): one
    row, renewed by the leader, whose epoch grows by one at every takeover. Times are the
    database's own clock (``now()``), so instances on different machines need not agree."""

    __tablename__ = "service_leases"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)
    epoch: int = Field(sa_type=sa.BigInteger)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    lock_pid: int | None = None  # backend pid of the leader's lock session, if it holds the lock
    taken_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class InboxState(enum.StrEnum):
    PENDING = "pending"  # stored (and acknowledged), not handled yet
    DONE = "done"
    FAILED = "failed"  # handling it raised; the user was told to try again


class InboxUpdate(SQLModel, table=True):
    """An update a channel delivered (Zalo's webhook or long poll), stored before it is
    acknowledged and handled later in arrival order (``id``). Its message id keeps a repeat out,
    across restarts too, for as long as the row is kept."""

    __tablename__ = "inbox"
    __table_args__ = (
        sa.UniqueConstraint("channel", "message_id", name="uq_inbox_channel_message"),
        sa.Index("ix_inbox_channel_state", "channel", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    message_id: str = Field(max_length=128)
    body: str = Field(sa_type=sa.Text)  # the update as the channel sent it (JSON)
    state: InboxState = Field(default=InboxState.PENDING, sa_type=_enum_column(InboxState))
    received_at: datetime = Field(sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class HistoryChunk(SQLModel, table=True):
    """A chunk of a plan's history sheet rendered and compressed before (the export's cache):
    ``rows`` consecutive status updates, oldest first, up to and including ``last_id``, as the
    raw deflate of their SpreadsheetML rows (:mod:`documents.deflate`). Status updates are
    never changed or deleted, so a chunk stays true while the texts its rows show do; what it
    depends on is kept beside it (``format``: the rendering's version, date style and time
    zone; ``strings``: the shared strings it added; ``texts``: the text each unit, period,
    status and reporter it shows had) and checked by the export (bot.export_history)."""

    __tablename__ = "history_chunks"

    plan_id: int = Field(foreign_key="plans.id", primary_key=True)
    number: int = Field(primary_key=True)  # 0, 1, …: two builders of the same chunk collide
    format: str = Field(max_length=200)
    last_id: int  # the status update the chunk ends with (in the order of created_at, id)
    last_created_at: datetime = Field(sa_type=UTCDateTime)
    rows: int
    text_length: int = Field(sa_type=sa.BigInteger)
    crc: int = Field(sa_type=sa.BigInteger)  # CRC-32 is unsigned: past PostgreSQL's integer
    strings: str = Field(sa_type=sa.Text)  # JSON: the shared strings it added, in order
    texts: str = Field(sa_type=sa.Text)  # JSON: {"u12": [code, name], "p3": title, …}
    data: bytes = Field(sa_type=sa.LargeBinary)
