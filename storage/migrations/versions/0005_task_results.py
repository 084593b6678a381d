"""task_results: what a report says about each task of the plan

A focal point may go through the tasks the plan gives their unit (its own item of section IV and
the shared tasks of section II) and give each a status and a short result. One row per (report,
task), written with the status update. A task dropped from the plan file is kept, retired
(``tasks.active``), while results point at it: reports are never deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("chua_trien_khai", "dang_trien_khai", "hoan_thanh", "vuong_mac")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "task_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status_update_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="reportstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["status_update_id"], ["status_updates.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("status_update_id", "task_id", name="uq_task_results_report_task"),
    )
    op.create_index("ix_task_results_status_update_id", "task_results", ["status_update_id"])
    op.create_index("ix_task_results_task_id", "task_results", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_results_task_id", table_name="task_results")
    op.drop_index("ix_task_results_status_update_id", table_name="task_results")
    op.drop_table("task_results")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("active")
