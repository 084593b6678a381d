"""outbox.pieces_sent; status_updates.file_id up to 2000 characters

A long message goes out in pieces; ``pieces_sent`` lets a retry resume after the pieces an
earlier attempt delivered. Zalo photos are kept by URL, which may be longer than 300.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("pieces_sent", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("status_updates") as batch_op:
        batch_op.alter_column(
            "file_id",
            existing_type=sa.String(length=300),
            type_=sa.String(length=2000),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("status_updates") as batch_op:
        batch_op.alter_column(
            "file_id",
            existing_type=sa.String(length=2000),
            type_=sa.String(length=300),
            existing_nullable=True,
        )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("pieces_sent")
