"""history chunks: the export's history sheet rendered and compressed in the background

A new table ``history_chunks``: per plan, in order, chunks of consecutive status updates
rendered as the rows of the history sheet and compressed, with what they depend on (see
``storage.models.HistoryChunk``). Empty at first: the service fills it.

A new table only: every row is kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_chunks",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=200), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_created_at", UTCDateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("text_length", sa.BigInteger(), nullable=False),
        sa.Column("crc", sa.BigInteger(), nullable=False),
        sa.Column("strings", sa.Text(), nullable=False),
        sa.Column("texts", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("plan_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("history_chunks")
