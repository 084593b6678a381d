"""report read indexes: composite indexes for the coordinator's hot queries

- ``ix_status_updates_plan_organisation_time`` (plan_id, organisation_id, created_at, id): one
  unit's latest reports in a plan, newest first, at most N (/donvi, /tinhhinh, the agency page)
  read straight from the index instead of every report of the plan;
- ``ix_status_updates_plan_time_id`` (plan_id, created_at, id) replaces
  ``ix_status_updates_plan_time`` (plan_id, created_at): the plan's history in the export's
  order, streamed from the index without sorting a million rows;
- ``ix_plan_memberships_plan_state`` (plan_id, state, focal_point_id): the focal points who
  joined a plan (counts and contacts of the overview and /quahan).

Indexes only: every row is kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_status_updates_plan_organisation_time",
        "status_updates",
        ["plan_id", "organisation_id", "created_at", "id"],
    )
    op.create_index(
        "ix_status_updates_plan_time_id", "status_updates", ["plan_id", "created_at", "id"]
    )
    op.drop_index("ix_status_updates_plan_time", table_name="status_updates")
    op.create_index(
        "ix_plan_memberships_plan_state",
        "plan_memberships",
        ["plan_id", "state", "focal_point_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_plan_memberships_plan_state", table_name="plan_memberships")
    op.create_index("ix_status_updates_plan_time", "status_updates", ["plan_id", "created_at"])
    op.drop_index("ix_status_updates_plan_time_id", table_name="status_updates")
    op.drop_index("ix_status_updates_plan_organisation_time", table_name="status_updates")
