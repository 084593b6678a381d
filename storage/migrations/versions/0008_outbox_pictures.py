"""outbox_pictures: pictures sent after an outbox message's text (the digest's charts)

The coordinator's digest carries the charts /tonghop shows. They are drawn when the digest is
queued and kept with its row until it is delivered, so a retry or a restart sends the same
pictures; ``outbox.pictures`` counts them (0 for every existing row).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("pictures", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "outbox_pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_id", "position", name="uq_outbox_pictures_position"),
    )
    op.create_index("ix_outbox_pictures_outbox_id", "outbox_pictures", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_pictures_outbox_id", table_name="outbox_pictures")
    op.drop_table("outbox_pictures")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("pictures")
