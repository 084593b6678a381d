"""Organisations and people outlive a plan; plans have a status; reporting periods; indicators;
the latest-report read model

- ``organisations`` is new: one row per agency code, whatever plans name it. ``agencies``
  becomes ``plan_units`` (an organisation as one plan names it) with ``organisation_id``.
- ``focal_points`` belong to an organisation; ``plan_memberships`` says in which plans they
  answer for it (every existing focal point has joined the plan of their agency).
- ``deadlines`` becomes ``reporting_periods`` (series, the plan's wording of the due date,
  the span it covers, the units that owe it); ``status_updates`` point at (plan, organisation,
  period) with composite foreign keys, so a report can only belong to a unit of its own plan
  and one of that plan's periods. ``invites`` point at (plan, organisation).
- ``plans`` gets status, example, starts_on, ends_on; ``campaigns`` series, checkins and
  result_period; ``indicators`` and ``indicator_values`` are new.
- ``latest_reports`` holds the latest report of every (plan, organisation, period), built here
  from the status updates already stored.
- ``reminder_runs`` records every reminder occurrence dealt with, in the transaction that
  queues its messages. (The first releases took a job missing from APScheduler's store for a
  reminder that had run; occurrences already past when this migration runs are not sent
  again: past ones more than a few working days old are dropped by the catch-up rule.)

Every existing row is kept; ids of plan units, periods, focal points and reports are kept too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUM = {"native_enum": False, "length": 16}


def upgrade() -> None:
    _plans()
    _organisations_and_plan_units()
    _reporting_periods()
    _campaigns()
    _new_tables()
    _reminder_runs_from_outbox()
    _focal_points()
    _invites()
    _status_updates()
    _latest_reports()


# --- upgrade steps -------------------------------------------------------------------------------


def _plans() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column(
                "status",
                sa.Enum("draft", "active", "ended", "archived", name="planstatus", **ENUM),
                nullable=False,
                server_default="active",
            )
        )
        batch.add_column(
            sa.Column("example", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))


def _organisations_and_plan_units() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    # One organisation per code, named as the newest plan names it.
    op.execute(
        "INSERT INTO organisations (code, name, short_name, kind) "
        "SELECT a.code, a.name, a.short_name, a.kind FROM agencies a "
        "WHERE a.id = (SELECT max(b.id) FROM agencies b WHERE b.code = a.code)"
    )
    op.rename_table("agencies", "plan_units")
    with op.batch_alter_table("plan_units") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE plan_units SET organisation_id = "
        "(SELECT o.id FROM organisations o WHERE o.code = plan_units.code)"
    )
    with op.batch_alter_table("plan_units") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_agencies_plan_code", type_="unique")
        batch.drop_index("ix_agencies_plan_id")
        batch.create_unique_constraint("uq_plan_units_plan_code", ["plan_id", "code"])
        batch.create_unique_constraint(
            "uq_plan_units_plan_organisation", ["plan_id", "organisation_id"]
        )
        batch.create_foreign_key(
            "fk_plan_units_organisation", "organisations", ["organisation_id"], ["id"]
        )
        batch.create_index("ix_plan_units_plan_id", ["plan_id"])
        batch.create_index("ix_plan_units_organisation_id", ["organisation_id"])


def _reporting_periods() -> None:
    op.rename_table("deadlines", "reporting_periods")
    with op.batch_alter_table("reporting_periods") as batch:
        batch.add_column(sa.Column("series", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("due_text", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("covers_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("covers_to", sa.Date(), nullable=True))
        batch.add_column(sa.Column("unit_codes", sa.Text(), nullable=True))
    connection = op.get_bind()
    periods = sa.table(
        "reporting_periods",
        sa.column("id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("due_before", sa.Date()),
        sa.column("series", sa.String()),
        sa.column("due_text", sa.String()),
    )
    for period_id, code, due_before in connection.execute(
        sa.select(periods.c.id, periods.c.code, periods.c.due_before)
    ):
        day = due_before if isinstance(due_before, date) else date.fromisoformat(str(due_before))
        connection.execute(
            periods.update()
            .where(periods.c.id == period_id)
            .values(series=code, due_text=f"trước ngày {day:%d/%m/%Y}")
        )
    with op.batch_alter_table("reporting_periods") as batch:
        batch.alter_column("series", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("due_text", existing_type=sa.String(length=100), nullable=False)
        batch.alter_column("code", existing_type=sa.String(length=32), type_=sa.String(length=64))
        batch.alter_column(
            "title", existing_type=sa.String(length=200), type_=sa.String(length=300)
        )
        batch.drop_constraint("uq_deadlines_plan_code", type_="unique")
        batch.drop_index("ix_deadlines_plan_id")
        batch.create_unique_constraint("uq_reporting_periods_plan_code", ["plan_id", "code"])
        batch.create_unique_constraint("uq_reporting_periods_plan_id", ["plan_id", "id"])
        batch.create_index("ix_reporting_periods_plan_id", ["plan_id"])


def _campaigns() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("series", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("checkins", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("result_period", sa.String(length=64), nullable=True))
    op.execute("UPDATE campaigns SET series = code")
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("series", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("checkins", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column("code", existing_type=sa.String(length=32), type_=sa.String(length=64))


def _new_tables() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_codes", sa.Text(), nullable=True),
        sa.Column("series", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "code", name="uq_indicators_plan_code"),
    )
    op.create_index("ix_indicators_plan_id", "indicators", ["plan_id"])
    op.create_table(
        "plan_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("focal_point_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "state", sa.Enum("joined", "declined", name="membershipstate", **ENUM), nullable=False
        ),
        sa.Column("decided_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["focal_point_id"], ["focal_points.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("focal_point_id", "plan_id", name="uq_plan_memberships_person_plan"),
    )
    op.create_index("ix_plan_memberships_focal_point_id", "plan_memberships", ["focal_point_id"])
    op.create_index("ix_plan_memberships_plan_id", "plan_memberships", ["plan_id"])
    op.create_table(
        "indicator_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"]),
        sa.ForeignKeyConstraint(["status_update_id"], ["status_updates.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("status_update_id", "indicator_id", name="uq_indicator_values_report"),
    )
    op.create_index("ix_indicator_values_indicator_id", "indicator_values", ["indicator_id"])
    op.create_index(
        "ix_indicator_values_status_update_id", "indicator_values", ["status_update_id"]
    )
    op.create_table(
        "reminder_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.Enum("done", "dropped", name="runstate", **ENUM), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "occurrence_key", name="uq_reminder_runs_plan_key"),
    )


SCHEDULED_RULES = ("truoc-han", "qua-han", "phat-dong", "hang-tuan", "tong-hop")


def _reminder_runs_from_outbox() -> None:
    """The first releases kept no record of what had run: every reminder occurrence that queued
    a message (outbox key ``plan/occurrence/channel:user``) is recorded as run, so the upgraded
    service does not send it again to someone who registered since."""
    connection = op.get_bind()
    plan_ids: dict[str, int] = {
        str(code): int(plan_id)
        for code, plan_id in connection.execute(sa.text("SELECT code, id FROM plans")).all()
    }
    outbox = sa.table(
        "outbox",
        sa.column("key", sa.String()),
        sa.column("rule", sa.String()),
        sa.column("created_at", storage.models.UTCDateTime()),
    )
    first: dict[tuple[int, str], object] = {}
    rows = connection.execute(
        sa.select(outbox.c.key, outbox.c.created_at).where(outbox.c.rule.in_(SCHEDULED_RULES))
    )
    for key, created_at in rows:
        parts = str(key).split("/")
        if len(parts) == 3 and parts[0] in plan_ids:
            first.setdefault((plan_ids[parts[0]], parts[1]), created_at)
    runs = sa.table(
        "reminder_runs",
        sa.column("plan_id", sa.Integer()),
        sa.column("occurrence_key", sa.String()),
        sa.column("state", sa.String()),
        sa.column("at", storage.models.UTCDateTime()),
        sa.column("queued", sa.Integer()),
    )
    if first:
        connection.execute(
            runs.insert(),
            [
                {"plan_id": plan_id, "occurrence_key": key, "state": "done", "at": at, "queued": 0}
                for (plan_id, key), at in first.items()
            ],
        )


def _focal_points() -> None:
    with op.batch_alter_table("focal_points") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE focal_points SET organisation_id = "
        "(SELECT u.organisation_id FROM plan_units u WHERE u.id = focal_points.agency_id)"
    )
    op.execute(
        "INSERT INTO plan_memberships (focal_point_id, plan_id, state, decided_at) "
        "SELECT f.id, u.plan_id, 'joined', f.registered_at "
        "FROM focal_points f JOIN plan_units u ON u.id = f.agency_id"
    )
    with op.batch_alter_table("focal_points") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_index("ix_focal_points_agency_id")
        batch.drop_column("agency_id")
        batch.create_foreign_key(
            "fk_focal_points_organisation", "organisations", ["organisation_id"], ["id"]
        )
        batch.create_index("ix_focal_points_organisation_id", ["organisation_id"])


def _invites() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE invites SET "
        "plan_id = (SELECT u.plan_id FROM plan_units u WHERE u.id = invites.agency_id), "
        "organisation_id = "
        "(SELECT u.organisation_id FROM plan_units u WHERE u.id = invites.agency_id)"
    )
    # A link code (focal point set before use) belongs to no plan.
    op.execute(
        "UPDATE invites SET plan_id = NULL WHERE focal_point_id IS NOT NULL AND used_at IS NULL"
    )
    with op.batch_alter_table("invites") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_index("ix_invites_agency_id")
        batch.drop_column("agency_id")
        batch.create_foreign_key(
            "fk_invites_organisation", "organisations", ["organisation_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_invites_plan_unit",
            "plan_units",
            ["plan_id", "organisation_id"],
            ["plan_id", "organisation_id"],
        )
        batch.create_index("ix_invites_plan_id", ["plan_id"])
        batch.create_index("ix_invites_organisation_id", ["organisation_id"])


def _status_updates() -> None:
    with op.batch_alter_table("status_updates") as batch:
        batch.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE status_updates SET "
        "plan_id = (SELECT u.plan_id FROM plan_units u WHERE u.id = status_updates.agency_id), "
        "organisation_id = "
        "(SELECT u.organisation_id FROM plan_units u WHERE u.id = status_updates.agency_id)"
    )
    old_key = _single_key_of("deadline_id")
    if op.get_bind().dialect.name == "postgresql" and old_key is not None:
        op.drop_constraint(old_key, "status_updates", type_="foreignkey")
    op.drop_index("ix_status_updates_agency_id", table_name="status_updates")
    op.drop_index("ix_status_updates_deadline_id", table_name="status_updates")
    with op.batch_alter_table("status_updates", naming_convention=BATCH_NAMES) as batch:
        if op.get_bind().dialect.name == "sqlite":
            batch.drop_constraint(
                old_key or "fk_status_updates_deadline_id_reporting_periods", type_="foreignkey"
            )
        batch.alter_column("plan_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("deadline_id", new_column_name="period_id", existing_type=sa.Integer())
        batch.drop_column("agency_id")
    with op.batch_alter_table("status_updates") as batch:
        batch.create_foreign_key(
            "fk_status_updates_plan_unit",
            "plan_units",
            ["plan_id", "organisation_id"],
            ["plan_id", "organisation_id"],
        )
        batch.create_foreign_key(
            "fk_status_updates_plan_period",
            "reporting_periods",
            ["plan_id", "period_id"],
            ["plan_id", "id"],
        )
    op.create_index("ix_status_updates_period_id", "status_updates", ["period_id"])
    op.create_index(
        "ix_status_updates_organisation_time", "status_updates", ["organisation_id", "created_at"]
    )
    op.create_index("ix_status_updates_plan_time", "status_updates", ["plan_id", "created_at"])


# SQLite's foreign keys have no names; batch mode names them this way to drop one.
BATCH_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _single_key_of(column: str) -> str | None:
    """The name of the single-column foreign key of ``status_updates.column``, if it has one
    (the composite keys replace it)."""
    for fk in sa.inspect(op.get_bind()).get_foreign_keys("status_updates"):
        if fk["constrained_columns"] == [column] and fk["name"]:
            return str(fk["name"])
    return None


def _latest_reports() -> None:
    op.create_table(
        "latest_reports",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "chua_trien_khai",
                "dang_trien_khai",
                "hoan_thanh",
                "vuong_mac",
                name="reportstatus",
                **ENUM,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("reported_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("first_reported_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint(["status_update_id"], ["status_updates.id"]),
        sa.PrimaryKeyConstraint("plan_id", "organisation_id", "period_id"),
    )
    op.create_index("ix_latest_reports_plan_period", "latest_reports", ["plan_id", "period_id"])
    op.execute(
        "INSERT INTO latest_reports (plan_id, organisation_id, period_id, status_update_id, "
        "status, progress, reported_at, first_reported_at, reports) "
        "SELECT plan_id, organisation_id, period_id, id, status, progress, created_at, "
        "first_at, reports FROM ("
        "SELECT s.*, "
        "ROW_NUMBER() OVER (PARTITION BY plan_id, organisation_id, period_id "
        "ORDER BY created_at DESC, id DESC) AS newest, "
        "MIN(created_at) OVER (PARTITION BY plan_id, organisation_id, period_id) AS first_at, "
        "COUNT(*) OVER (PARTITION BY plan_id, organisation_id, period_id) AS reports "
        "FROM status_updates s) ranked WHERE newest = 1"
    )


# --- downgrade: the one-plan schema of 0002, the rows it can hold ---------------------------------


def downgrade() -> None:
    op.drop_index("ix_latest_reports_plan_period", table_name="latest_reports")
    op.drop_table("latest_reports")
    op.drop_table("reminder_runs")
    op.drop_index("ix_indicator_values_status_update_id", table_name="indicator_values")
    op.drop_index("ix_indicator_values_indicator_id", table_name="indicator_values")
    op.drop_table("indicator_values")
    op.drop_index("ix_indicators_plan_id", table_name="indicators")
    op.drop_table("indicators")
    _status_updates_back()
    _invites_back()
    _focal_points_back()
    op.drop_index("ix_plan_memberships_plan_id", table_name="plan_memberships")
    op.drop_index("ix_plan_memberships_focal_point_id", table_name="plan_memberships")
    op.drop_table("plan_memberships")
    _campaigns_back()
    _reporting_periods_back()
    _plan_units_back()
    with op.batch_alter_table("plans") as batch:
        for column in ("ends_on", "starts_on", "example", "status"):
            batch.drop_column(column)


def _status_updates_back() -> None:
    with op.batch_alter_table("status_updates") as batch:
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE status_updates SET agency_id = (SELECT u.id FROM plan_units u "
        "WHERE u.plan_id = status_updates.plan_id "
        "AND u.organisation_id = status_updates.organisation_id)"
    )
    for index in ("plan_time", "organisation_time", "period_id"):
        op.drop_index(f"ix_status_updates_{index}", table_name="status_updates")
    with op.batch_alter_table("status_updates") as batch:
        batch.drop_constraint("fk_status_updates_plan_unit", type_="foreignkey")
        batch.drop_constraint("fk_status_updates_plan_period", type_="foreignkey")
        batch.alter_column("agency_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("period_id", new_column_name="deadline_id", existing_type=sa.Integer())
        batch.drop_column("organisation_id")
        batch.drop_column("plan_id")
    with op.batch_alter_table("status_updates") as batch:
        batch.create_foreign_key("fk_status_updates_agency", "plan_units", ["agency_id"], ["id"])
        batch.create_foreign_key(
            "fk_status_updates_deadline", "reporting_periods", ["deadline_id"], ["id"]
        )
    op.create_index("ix_status_updates_agency_id", "status_updates", ["agency_id"])
    op.create_index("ix_status_updates_deadline_id", "status_updates", ["deadline_id"])


def _invites_back() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE invites SET agency_id = (SELECT min(u.id) FROM plan_units u "
        "WHERE u.organisation_id = invites.organisation_id "
        "AND (invites.plan_id IS NULL OR u.plan_id = invites.plan_id))"
    )
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint("fk_invites_plan_unit", type_="foreignkey")
        batch.drop_index("ix_invites_plan_id")
        batch.drop_index("ix_invites_organisation_id")
        batch.alter_column("agency_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("organisation_id")
        batch.drop_column("plan_id")
        batch.create_foreign_key("fk_invites_agency", "plan_units", ["agency_id"], ["id"])
        batch.create_index("ix_invites_agency_id", ["agency_id"])


def _focal_points_back() -> None:
    with op.batch_alter_table("focal_points") as batch:
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE focal_points SET agency_id = (SELECT min(u.id) FROM plan_units u "
        "JOIN plan_memberships m ON m.plan_id = u.plan_id "
        "WHERE u.organisation_id = focal_points.organisation_id "
        "AND m.focal_point_id = focal_points.id)"
    )
    op.execute(
        "UPDATE focal_points SET agency_id = (SELECT min(u.id) FROM plan_units u "
        "WHERE u.organisation_id = focal_points.organisation_id) WHERE agency_id IS NULL"
    )
    with op.batch_alter_table("focal_points") as batch:
        batch.drop_index("ix_focal_points_organisation_id")
        batch.alter_column("agency_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("organisation_id")
        batch.create_foreign_key("fk_focal_points_agency", "plan_units", ["agency_id"], ["id"])
        batch.create_index("ix_focal_points_agency_id", ["agency_id"])


def _campaigns_back() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("result_period")
        batch.drop_column("checkins")
        batch.drop_column("series")
        batch.alter_column("code", existing_type=sa.String(length=64), type_=sa.String(length=32))


def _reporting_periods_back() -> None:
    with op.batch_alter_table("reporting_periods") as batch:
        batch.drop_constraint("uq_reporting_periods_plan_id", type_="unique")
        batch.drop_constraint("uq_reporting_periods_plan_code", type_="unique")
        batch.drop_index("ix_reporting_periods_plan_id")
        for column in ("unit_codes", "covers_to", "covers_from", "due_text", "series"):
            batch.drop_column(column)
        batch.alter_column("code", existing_type=sa.String(length=64), type_=sa.String(length=32))
        batch.alter_column(
            "title", existing_type=sa.String(length=300), type_=sa.String(length=200)
        )
        batch.create_unique_constraint("uq_deadlines_plan_code", ["plan_id", "code"])
        batch.create_index("ix_deadlines_plan_id", ["plan_id"])
    op.rename_table("reporting_periods", "deadlines")


def _plan_units_back() -> None:
    with op.batch_alter_table("plan_units") as batch:
        batch.drop_constraint("uq_plan_units_plan_organisation", type_="unique")
        batch.drop_constraint("uq_plan_units_plan_code", type_="unique")
        batch.drop_index("ix_plan_units_organisation_id")
        batch.drop_index("ix_plan_units_plan_id")
        batch.drop_column("organisation_id")
        batch.create_unique_constraint("uq_agencies_plan_code", ["plan_id", "code"])
        batch.create_index("ix_agencies_plan_id", ["plan_id"])
    op.rename_table("plan_units", "agencies")
    op.drop_table("organisations")
