"""overview count indexes: the coordinator's overview of a large plan read as counts

- ``ix_latest_reports_plan_status`` (plan_id, status, period_id, organisation_id): the latest
  reports that say a unit is stuck, read from the index (a few among a plan's tens of
  thousands) instead of once per unit;
- ``ix_plan_units_plan_reporting`` (plan_id, organisation_id, active, is_coordinator, kind,
  section, code): the reporting units grouped by kind and section, and joined to their latest
  reports, from the index alone.

Indexes only: every row is kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_latest_reports_plan_status",
        "latest_reports",
        ["plan_id", "status", "period_id", "organisation_id"],
    )
    op.create_index(
        "ix_plan_units_plan_reporting",
        "plan_units",
        ["plan_id", "organisation_id", "active", "is_coordinator", "kind", "section", "code"],
    )


def downgrade() -> None:
    op.drop_index("ix_plan_units_plan_reporting", table_name="plan_units")
    op.drop_index("ix_latest_reports_plan_status", table_name="latest_reports")
